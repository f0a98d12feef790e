// Package benchkit holds what vigil's benchmark command (internal/bench)
// and benchmark-style tests share: an embedded Temporal server, an
// in-process worker with the real registrations, a separately built worker
// process and its /proc figures, and the raw Glacier download loop that
// throughput is compared with. Functions return errors instead of taking a
// testing.TB, so that a plain main package can use them.
package benchkit
