package router

import "sync/atomic"

// Stats are the router's counters since New. Every received message ends up
// in exactly one of Handled, Failed, Dropped and Malformed, except messages
// left unhandled in their batch because the router was stopping.
type Stats struct {
	// Received counts messages received from all queues.
	Received int64
	// Handled counts messages whose handlers all returned nil.
	Handled int64
	// Failed counts messages left on the queue because a handler failed.
	Failed int64
	// Dropped counts well-formed messages deleted without a handler
	// (s3:TestEvent, or no handler registered for the kind).
	Dropped int64
	// Malformed counts messages that Parse rejected, left for the DLQ.
	Malformed int64
	// ReceiveErrors counts failed ReceiveMessage calls.
	ReceiveErrors int64
	// DeleteErrors counts failed DeleteMessage calls (the message will be
	// delivered again).
	DeleteErrors int64
}

type counters struct {
	received, handled, failed, dropped, malformed atomic.Int64
	receiveErrors, deleteErrors                   atomic.Int64
}

// Stats returns a snapshot of the router's counters.
func (r *Router) Stats() Stats {
	c := &r.stats
	return Stats{
		Received:      c.received.Load(),
		Handled:       c.handled.Load(),
		Failed:        c.failed.Load(),
		Dropped:       c.dropped.Load(),
		Malformed:     c.malformed.Load(),
		ReceiveErrors: c.receiveErrors.Load(),
		DeleteErrors:  c.deleteErrors.Load(),
	}
}
