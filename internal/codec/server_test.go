package codec_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vigilops/vigil/internal/codec"
)

// With --origin '*' any page may call the codec server, but never with the
// browser's credentials: Access-Control-Allow-Credentials is absent and the
// allowed origin is the wildcard, not the caller's origin reflected.
func TestAnyOriginNeverAllowsCredentials(t *testing.T) {
	c := mustCodec(t, key(t, "k1"))
	for _, tc := range []struct {
		origins   []string
		wantCreds string
		wantAllow string
	}{
		{[]string{codec.AnyOrigin}, "", codec.AnyOrigin},
		{[]string{"http://ui.example", codec.AnyOrigin}, "", codec.AnyOrigin},
		{[]string{"http://ui.example"}, "true", "http://ui.example"},
	} {
		srv := httptest.NewServer(codec.Handler(c, codec.ServerOptions{Origins: tc.origins}))
		for _, method := range []string{http.MethodOptions, http.MethodPost} {
			req, _ := http.NewRequest(method, srv.URL+"/decode", nil)
			req.Header.Set("Origin", "http://ui.example")
			req.Header.Set("Access-Control-Request-Method", http.MethodPost)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			h := resp.Header
			if _, present := h["Access-Control-Allow-Credentials"]; present != (tc.wantCreds != "") || h.Get("Access-Control-Allow-Credentials") != tc.wantCreds {
				t.Errorf("origins %v, %s: Access-Control-Allow-Credentials %q, want %q", tc.origins, method, h.Values("Access-Control-Allow-Credentials"), tc.wantCreds)
			}
			if got := h.Get("Access-Control-Allow-Origin"); got != tc.wantAllow {
				t.Errorf("origins %v, %s: Access-Control-Allow-Origin %q, want %q", tc.origins, method, got, tc.wantAllow)
			}
		}
		srv.Close()
	}
}

func TestNewHTTPServerSetsEveryTimeout(t *testing.T) {
	s := codec.NewHTTPServer(http.NotFoundHandler())
	if s.ReadHeaderTimeout <= 0 || s.ReadTimeout <= 0 || s.WriteTimeout <= 0 || s.IdleTimeout <= 0 {
		t.Fatalf("timeouts: read header %v, read %v, write %v, idle %v", s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout)
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.0.0.2": true, "::1": true, "localhost": true,
		"": false, "0.0.0.0": false, "::": false, "10.0.0.5": false, "example.com": false,
	} {
		if got := codec.IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}
