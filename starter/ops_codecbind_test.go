package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigilops/vigil/internal/codec"
	"github.com/vigilops/vigil/internal/testenv"
)

// listeningRE finds the port in the codec server's first line.
var listeningRE = regexp.MustCompile(`codec server on http://\S*:(\d+) `)

// TestCodecServerBindAccepted: a non-loopback --bind starts with
// --auth-token-env (and then a request without the token is refused, one
// with it served) or with --insecure-no-auth (no token asked); loopback
// with --insecure-no-auth starts too. An --auth-token-env naming an empty
// variable is refused with exit 2.
func TestCodecServerBindAccepted(t *testing.T) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	env := mapEnv{codec.KeysEnv: "k1:" + base64.StdEncoding.EncodeToString(b), "CODEC_TOKEN": "codec-tok-81f2"}
	for _, tc := range []struct {
		args      []string
		tokenAsks bool
	}{
		{[]string{"--bind", "0.0.0.0", "--auth-token-env", "CODEC_TOKEN"}, true},
		{[]string{"--bind", "0.0.0.0", "--insecure-no-auth"}, false},
		{[]string{"--bind", "127.0.0.1", "--insecure-no-auth"}, false},
		{[]string{"--bind", "127.0.0.1", "--auth-token-env", "CODEC_TOKEN"}, true},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			var stdout, stderr syncBuffer
			done := make(chan int, 1)
			go func() {
				done <- runCLI(ctx, &stdout, &stderr, func(a *app) { a.env = env }, append([]string{"codec-server", "--port", "0"}, tc.args...)...)
			}()
			var port string
			testenv.Eventually(t, 10*time.Second, 10*time.Millisecond, "the codec server listening", func() bool {
				select {
				case code := <-done:
					t.Fatalf("codec-server %v exited %d: %s", tc.args, code, stderr.String())
				default:
				}
				m := listeningRE.FindStringSubmatch(stderr.String())
				if m != nil {
					port = m[1]
				}
				return m != nil
			})
			post := func(token string) int {
				req, _ := http.NewRequest(http.MethodPost, "http://"+net.JoinHostPort("127.0.0.1", port)+"/decode", strings.NewReader(`{"payloads":[]}`))
				req.Header.Set("Content-Type", "application/json")
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			if got := post(""); (got == http.StatusOK) == tc.tokenAsks {
				t.Errorf("a request without a token: %d (token asked: %v)", got, tc.tokenAsks)
			}
			if got := post("codec-tok-81f2"); got != http.StatusOK {
				t.Errorf("a request with the token: %d", got)
			}
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("codec-server %v: exit %d after shutdown: %s", tc.args, code, stderr.String())
			}
		})
	}
	if r := runOffline(t, "codec-server", "--port", "0", "--bind", "0.0.0.0", "--auth-token-env", "UNSET_CODEC_TOKEN"); r.code != 2 ||
		!strings.Contains(r.stderr, "UNSET_CODEC_TOKEN") {
		t.Errorf("codec-server --auth-token-env naming an empty variable: exit %d %q, want 2 naming it", r.code, r.stderr)
	}
}
