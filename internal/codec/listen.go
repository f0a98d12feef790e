package codec

import (
	"net"
	"net/http"
	"time"
)

// Timeouts of the codec server's HTTP server. Codec requests and answers
// are small (a page of payloads), so a client that takes longer than these
// is stuck or hostile.
const (
	serverReadHeaderTimeout = 10 * time.Second
	serverReadTimeout       = 30 * time.Second
	serverWriteTimeout      = 30 * time.Second
	serverIdleTimeout       = 2 * time.Minute
)

// NewHTTPServer is the http.Server that serves h with the codec server's
// read, write and idle timeouts.
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: serverReadHeaderTimeout,
		ReadTimeout:       serverReadTimeout,
		WriteTimeout:      serverWriteTimeout,
		IdleTimeout:       serverIdleTimeout,
	}
}

// IsLoopback reports whether a bind address (host only) reaches this
// machine alone: "localhost" or a loopback IP. An empty host, 0.0.0.0, ::
// and every other name or address are reachable from elsewhere.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
