package cacheserver

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// snapshotStallSize is more than the loopback socket buffers take from a
// client that reads nothing (it stalled the server's write before the fix).
const snapshotStallSize = 32 << 20

// A client that stops reading a snapshot half way does not block writes:
// a cell write completes while the reader is stalled, and the stalled
// reader still gets the array as it was when its snapshot began.
func TestSlowSnapshotReaderDoesNotBlockWrites(t *testing.T) {
	s := New(Options{Size: snapshotStallSize, User: "vigil", Password: "pw"})
	if err := s.Fill(bytes.NewReader(bytes.Repeat([]byte{1}, snapshotStallSize))); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	ts.Config = NewHTTPServer(s.Handler())
	ts.Start()
	t.Cleanup(ts.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/snapshot", nil)
	req.SetBasicAuth("vigil", "pw")
	snap, err := http.DefaultClient.Do(req) // headers are in: the server is writing the body
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Body.Close()
	if _, err := io.ReadFull(snap.Body, make([]byte, 1<<10)); err != nil { // then the reader stalls
		t.Fatal(err)
	}

	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	put, _ := http.NewRequestWithContext(wctx, http.MethodPut, ts.URL+"/cells/0", strings.NewReader(`{"value": 9}`))
	put.SetBasicAuth("vigil", "pw")
	resp, err := http.DefaultClient.Do(put)
	if err != nil {
		t.Fatalf("a cell write while a snapshot reader is stalled: %v (the snapshot holds the lock)", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("cell write: %s", resp.Status)
	}

	rest, err := io.ReadAll(snap.Body)
	if err != nil {
		t.Fatal(err)
	}
	if len(rest) != snapshotStallSize-1<<10 || bytes.Count(rest, []byte{1}) != len(rest) {
		t.Fatalf("the stalled snapshot changed under its reader (%d bytes)", len(rest))
	}
	if status, body := do(t, "GET", ts.URL+"/cells/0", "", true); status != 200 || !strings.Contains(body, `"value":9`) {
		t.Fatalf("cell 0 after the write: %d %s", status, body)
	}
}

func TestNewHTTPServerSetsEveryTimeout(t *testing.T) {
	srv := NewHTTPServer(http.NotFoundHandler())
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 {
		t.Fatalf("timeouts: read header %v, read %v, write %v, idle %v", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout)
	}
	if got := snapshotTimeout(DefaultSize); got < srv.WriteTimeout+time.Minute {
		t.Fatalf("a %d-byte snapshot gets %v, no more than a JSON answer", DefaultSize, got)
	}
}
