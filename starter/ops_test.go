package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/vigilops/vigil/internal/codec"
)

// mapEnv is an envconfig.EnvLookup over a map.
type mapEnv map[string]string

func (m mapEnv) Environ() []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

func (m mapEnv) LookupEnv(k string) (string, bool) { v, ok := m[k]; return v, ok }

func TestVersionAndCompletion(t *testing.T) {
	r := runOffline(t, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "vigil ") || !strings.Contains(r.stdout, "commit") {
		t.Fatalf("version: %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = runOffline(t, "version", "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"version"`) {
		t.Fatalf("version -o json: %q", r.stdout)
	}
	for shell, marker := range map[string]string{"bash": "complete -o default -F __start_starter starter", "zsh": "#compdef starter", "fish": "complete -c starter"} {
		r := runOffline(t, "completion", shell)
		if r.code != 0 || !strings.Contains(r.stdout, marker) {
			t.Errorf("completion %s: exit %d, no %q in %d bytes (%s)", shell, r.code, marker, len(r.stdout), r.stderr)
		}
	}
	if r := runOffline(t, "completion", "powershell"); r.code != 2 {
		t.Errorf("completion powershell: exit %d", r.code)
	}
	if r := runOffline(t, "list", "--log-format", "xml"); r.code != 2 || !strings.Contains(r.stderr, "--log-format") {
		t.Errorf("--log-format xml: exit %d %q", r.code, r.stderr)
	}
	if r := runOffline(t, "list", "--log-level", "loud"); r.code != 2 {
		t.Errorf("--log-level loud: exit %d", r.code)
	}
}

func TestWorkflowLink(t *testing.T) {
	cases := []struct {
		env     mapEnv
		address string
		want    string
	}{
		{mapEnv{}, "127.0.0.1:7233", "http://127.0.0.1:8233/namespaces/default/workflows/glacier%2Fv%2Fa%20b/run1/history"},
		{mapEnv{}, "temporal.internal:7233", ""},
		{mapEnv{"TEMPORAL_UI_URL": "https://ui.example/"}, "temporal.internal:7233", "https://ui.example/namespaces/default/workflows/glacier%2Fv%2Fa%20b/run1/history"},
		{mapEnv{"VIGIL_UI_URL": "http://localhost:8233", "TEMPORAL_UI_URL": "https://other"}, "temporal:7233", "http://localhost:8233/namespaces/default/workflows/glacier%2Fv%2Fa%20b/run1/history"},
	}
	for _, tc := range cases {
		a := newApp(nil, nil)
		a.env, a.address, a.namespace = tc.env, tc.address, "default"
		if got := a.workflowLink("glacier/v/a b", "run1"); got != tc.want {
			t.Errorf("%v %s: %q, want %q", tc.env, tc.address, got, tc.want)
		}
	}
}

func TestCodecServer(t *testing.T) {
	if r := runOffline(t, "codec-server", "--port", "0"); r.code != 1 || !strings.Contains(r.stderr, codec.KeysEnv) {
		t.Fatalf("codec-server without keys: exit %d %q", r.code, r.stderr)
	}
	// A non-loopback address without a token is refused before anything
	// listens: exit 2, one line.
	for _, bind := range []string{"0.0.0.0", "", "::", "192.0.2.1", "codec.example"} {
		r := runOffline(t, "codec-server", "--port", "0", "--bind", bind)
		if r.code != 2 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "--auth-token-env") {
			t.Errorf("codec-server --bind %q without a token: exit %d %q, want 2 and one line naming --auth-token-env", bind, r.code, r.stderr)
		}
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	keys := "k1:" + base64.StdEncoding.EncodeToString(b)
	a := newApp(&syncBuffer{}, &syncBuffer{})
	a.env = mapEnv{codec.KeysEnv: keys}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- a.runCodecServer(ctx, codecServerOptions{bind: "127.0.0.1", origins: []string{"http://127.0.0.1:8233"}}, func(addr string) { addrc <- addr })
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(10 * time.Second):
		t.Fatal("codec server not listening")
	}
	// Encode through the server, decode through the server.
	p, _ := converter.GetDefaultDataConverter().ToPayload("secret value")
	call := func(path string, in *commonpb.Payloads) *commonpb.Payloads {
		body, _ := protojson.Marshal(in)
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Namespace", "default")
		req.Header.Set("Origin", "http://127.0.0.1:8233")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "http://127.0.0.1:8233" {
			t.Fatalf("%s: %s, CORS %q", path, resp.Status, resp.Header.Get("Access-Control-Allow-Origin"))
		}
		var out commonpb.Payloads
		var raw bytes.Buffer
		_, _ = raw.ReadFrom(resp.Body)
		if err := protojson.Unmarshal(raw.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		return &out
	}
	enc := call("/encode", &commonpb.Payloads{Payloads: []*commonpb.Payload{p}})
	if string(enc.Payloads[0].Metadata["encoding"]) != codec.Encoding || bytes.Contains(enc.Payloads[0].Data, []byte("secret value")) {
		t.Fatalf("encode did not encrypt: %v", enc.Payloads[0])
	}
	dec := call("/decode", enc)
	var s string
	if err := converter.GetDefaultDataConverter().FromPayload(dec.Payloads[0], &s); err != nil || s != "secret value" {
		t.Fatalf("decode: %q %v", s, err)
	}
}
