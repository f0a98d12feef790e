package e2e

import (
	"net/http"
	"sync"
)

// holder holds the n-th request matching a predicate (counting from 1)
// until its client gives up, typically because the worker that sent it was
// killed. Every other request passes through.
type holder struct {
	n       int
	match   func(*http.Request) bool
	reached chan struct{} // closed when the held request arrives
	mu      sync.Mutex
	seen    int
}

// holdNth returns a holder for the n-th request matching match.
func holdNth(n int, match func(*http.Request) bool) *holder {
	return &holder{n: n, match: match, reached: make(chan struct{})}
}

// Wrap is the emulator wrapper (localcloud.Options.Wrap).
func (h *holder) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.match(r) {
			h.mu.Lock()
			h.seen++
			hold := h.seen == h.n
			h.mu.Unlock()
			if hold {
				close(h.reached)
				<-r.Context().Done()
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// Seen is how many matching requests arrived, the held one included.
func (h *holder) Seen() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seen
}
