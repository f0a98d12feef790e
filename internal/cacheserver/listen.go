package cacheserver

import (
	"net/http"
	"time"
)

// Timeouts of the cache server's HTTP server. The JSON endpoints move at
// most a few hundred KiB, so the server-wide read and write timeouts are
// short; the snapshot endpoints move the whole array and extend their own
// connection's deadline by its size (extendDeadline).
const (
	serverReadHeaderTimeout = 10 * time.Second
	serverReadTimeout       = time.Minute
	serverWriteTimeout      = time.Minute
	serverIdleTimeout       = 2 * time.Minute
	// snapshotMinRate is the slowest transfer a snapshot is given time
	// for: 1 MiB/s, on top of serverWriteTimeout (64 MiB: about 2 min).
	snapshotMinRate = 1 << 20
)

// NewHTTPServer is the http.Server for a cache server's Handler, with
// read-header, read, write and idle timeouts.
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: serverReadHeaderTimeout,
		ReadTimeout:       serverReadTimeout,
		WriteTimeout:      serverWriteTimeout,
		IdleTimeout:       serverIdleTimeout,
	}
}

// snapshotTimeout is the time a snapshot of n bytes may take.
func snapshotTimeout(n int64) time.Duration {
	return serverWriteTimeout + time.Duration(n/snapshotMinRate)*time.Second
}

// extendDeadline gives this request's connection time to move n bytes
// (reading the body when read, else writing the answer). A server without
// deadlines (httptest) ignores it.
func extendDeadline(w http.ResponseWriter, n int64, read bool) {
	rc := http.NewResponseController(w)
	deadline := time.Now().Add(snapshotTimeout(n))
	if read {
		_ = rc.SetReadDeadline(deadline)
	}
	_ = rc.SetWriteDeadline(deadline)
}
