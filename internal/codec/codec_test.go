package codec_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/vigilops/vigil/internal/codec"
)

func key(t *testing.T, id string) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return id + ":" + base64.StdEncoding.EncodeToString(b)
}

func mustCodec(t *testing.T, keys string) *codec.Codec {
	t.Helper()
	k, err := codec.ParseKeys(keys)
	if err != nil {
		t.Fatal(err)
	}
	c, err := codec.New(k)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRoundTripAndRotation(t *testing.T) {
	k1, k2 := key(t, "k1"), key(t, "k2")
	old := mustCodec(t, k1)
	rotated := mustCodec(t, k2+"\n# old key, kept to decrypt\n"+k1)
	p, err := converter.GetDefaultDataConverter().ToPayload(map[string]string{"secret": "hunter2"})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := old.Encode([]*commonpb.Payload{p})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(enc[0].Data, []byte("hunter2")) || string(enc[0].Metadata[codec.MetadataKeyID]) != "k1" ||
		string(enc[0].Metadata[converter.MetadataEncoding]) != codec.Encoding {
		t.Fatalf("not encrypted with k1: %v", enc[0])
	}
	// The rotated codec encrypts with k2 and still reads k1's payloads.
	dec, err := rotated.Decode(enc)
	if err != nil || !bytes.Equal(dec[0].Data, p.Data) {
		t.Fatalf("rotated codec reading k1: %v", err)
	}
	enc2, err := rotated.Encode([]*commonpb.Payload{p})
	if err != nil || string(enc2[0].Metadata[codec.MetadataKeyID]) != "k2" {
		t.Fatalf("rotated codec encrypts with %q (%v)", enc2[0].Metadata[codec.MetadataKeyID], err)
	}
	// The old codec does not have k2: one clear error.
	_, err = old.Decode(enc2)
	if !errors.Is(err, codec.ErrNoKey) || !strings.Contains(err.Error(), `"k2"`) {
		t.Fatalf("old codec on k2 payload: %v", err)
	}
	// Unencrypted payloads pass through; a codec without keys does not encrypt.
	none := mustCodec(t, "")
	if out, err := none.Encode([]*commonpb.Payload{p}); err != nil || out[0] != p {
		t.Fatalf("codec without keys changed the payload: %v", err)
	}
	if out, err := rotated.Decode([]*commonpb.Payload{p}); err != nil || out[0] != p {
		t.Fatalf("plain payload not passed through: %v", err)
	}
	// A tampered payload or a key id swapped in the metadata fails.
	enc2[0].Metadata[codec.MetadataKeyID] = []byte("k1")
	if _, err := rotated.Decode(enc2); err == nil || !strings.Contains(err.Error(), "not the one that encrypted it") {
		t.Fatalf("swapped key id: %v", err)
	}
}

func TestParseKeysErrors(t *testing.T) {
	for _, bad := range []string{"nocolon", ":" + base64.StdEncoding.EncodeToString(make([]byte, 32)), "k:c2hvcnQ=", key(t, "a") + "," + key(t, "a")} {
		_, err := codec.ParseKeys(bad)
		if err == nil {
			t.Errorf("ParseKeys(%q) accepted", bad)
			continue
		}
		if strings.Contains(err.Error(), strings.TrimPrefix(bad, "k:")) && len(bad) > 10 {
			t.Errorf("error quotes the key material: %v", err)
		}
	}
	f := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(f, []byte(key(t, "file")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := codec.LoadKeys("", func(k string) string { return map[string]string{codec.KeysFileEnv: f}[k] })
	if err != nil || len(keys) != 1 || keys[0].ID != "file" {
		t.Fatalf("LoadKeys from %s: %v %v", codec.KeysFileEnv, keys, err)
	}
}

// TestHandler checks the remote codec endpoint as the Web UI calls it:
// CORS preflight, then POST /decode with the X-Namespace header.
func TestHandler(t *testing.T) {
	c := mustCodec(t, key(t, "k1"))
	srv := httptest.NewServer(codec.Handler(c, codec.ServerOptions{Origins: []string{"http://ui.example"}, AuthToken: "tok"}))
	defer srv.Close()

	pre, _ := http.NewRequest(http.MethodOptions, srv.URL+"/decode", nil)
	pre.Header.Set("Origin", "http://ui.example")
	pre.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(pre)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "http://ui.example" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "X-Namespace") {
		t.Fatalf("preflight headers: %v", resp.Header)
	}

	p, _ := converter.GetDefaultDataConverter().ToPayload("hello")
	enc, err := c.Encode([]*commonpb.Payload{p})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := protojson.Marshal(&commonpb.Payloads{Payloads: enc})
	post := func(token string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/decode", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Namespace", "default")
		req.Header.Set("Origin", "http://evil.example")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if r := post("wrong"); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong token: %s", r.Status)
	}
	r := post("tok")
	defer r.Body.Close()
	if r.StatusCode != http.StatusOK || r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("decode: %s, CORS for another origin %q", r.Status, r.Header.Get("Access-Control-Allow-Origin"))
	}
	var out struct {
		Payloads []json.RawMessage `json:"payloads"`
	}
	if err := json.NewDecoder(r.Body).Decode(&out); err != nil || len(out.Payloads) != 1 {
		t.Fatalf("decode answer: %v", err)
	}
	var got commonpb.Payload
	if err := protojson.Unmarshal(out.Payloads[0], &got); err != nil {
		t.Fatal(err)
	}
	var s string
	if err := converter.GetDefaultDataConverter().FromPayload(&got, &s); err != nil || s != "hello" {
		t.Fatalf("decoded %q (%v)", s, err)
	}
}
