package cacheserver

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func newTestServer(t *testing.T) (*Server, *httptest.Server) {
	s := New(Options{Size: 1024, User: "vigil", Password: "pw"})
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

func do(t *testing.T, method, url, body string, auth bool) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth {
		req.SetBasicAuth("vigil", "pw")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestCellsAndBounds(t *testing.T) {
	_, ts := newTestServer(t)
	cases := []struct {
		method, path, body string
		auth               bool
		status             int
		contains           string
	}{
		{"GET", "/cells/3", "", false, 401, "authentication required"},
		{"PUT", "/cells/3", `{"value": 200}`, true, 200, `"value":200`},
		{"GET", "/cells/3", "", true, 200, `{"index":3,"value":200}`},
		{"GET", "/cells/1024", "", true, 400, "0 to 1023"},
		{"GET", "/cells/-1", "", true, 400, "0 to 1023"},
		{"PUT", "/cells/3", `{"value": 256}`, true, 400, "0..255"},
		{"PUT", "/cells/3", `{"valu": 1}`, true, 400, "want"},
		{"PUT", "/cells", `{"offset": 1020, "values": [1,2,3,4]}`, true, 200, `"written":4`},
		{"PUT", "/cells", `{"offset": 1021, "values": [1,2,3,4]}`, true, 400, "ending at or before 1024"},
		{"GET", "/cells?offset=1020&count=4", "", true, 200, `"values":[1,2,3,4]`},
		{"GET", "/cells?offset=1020&count=5", "", true, 400, "ending at or before"},
		{"GET", "/healthz", "", false, 200, "ok"},
	}
	for _, c := range cases {
		status, body := do(t, c.method, ts.URL+c.path, c.body, c.auth)
		if status != c.status || !strings.Contains(body, c.contains) {
			t.Errorf("%s %s %s: %d %q, want %d containing %q", c.method, c.path, c.body, status, body, c.status, c.contains)
		}
		if status == 400 {
			var e map[string]string
			if json.Unmarshal([]byte(body), &e) != nil || e["error"] == "" {
				t.Errorf("%s %s: 400 body %q is not a JSON error", c.method, c.path, body)
			}
		}
	}
}

func TestSnapshotRoundTripAndSizeCheck(t *testing.T) {
	s, ts := newTestServer(t)
	if status, _ := do(t, "GET", ts.URL+"/readyz", "", false); status != 503 {
		t.Errorf("readyz before SetReady: %d", status)
	}
	s.SetReady(true, "")
	if status, _ := do(t, "GET", ts.URL+"/readyz", "", false); status != 200 {
		t.Errorf("readyz: %d", status)
	}
	snap := bytes.Repeat([]byte{7, 8}, 512)
	if status, body := do(t, "PUT", ts.URL+"/snapshot", string(snap[:1000]), true); status != 400 || !strings.Contains(body, "exactly 1024") {
		t.Errorf("short snapshot: %d %s", status, body)
	}
	if status, body := do(t, "PUT", ts.URL+"/snapshot", string(snap), true); status != 204 {
		t.Fatalf("snapshot: %d %s", status, body)
	}
	if status, body := do(t, "GET", ts.URL+"/snapshot", "", true); status != 200 || body != string(snap) {
		t.Errorf("GET /snapshot: %d, %d bytes", status, len(body))
	}
	// A body cut short (Content-Length promised) leaves the array as it was.
	pr, pw := io.Pipe()
	go func() { _, _ = pw.Write(make([]byte, 1000)); pw.CloseWithError(io.ErrUnexpectedEOF) }()
	req, _ := http.NewRequest("PUT", ts.URL+"/snapshot", pr)
	req.ContentLength = 1024
	req.SetBasicAuth("vigil", "pw")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	if _, body := do(t, "GET", ts.URL+"/snapshot", "", true); body != string(snap) {
		t.Error("a cut-short PUT changed the array")
	}
}
