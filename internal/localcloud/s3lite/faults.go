package s3lite

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// EventFaults are the ways the emulator mimics S3's event delivery, which
// is at least once, sometimes minutes late, and now and then never. They
// apply to ObjectCreated events.
type EventFaults struct {
	// DropRate is the fraction (0..1) of events silently lost.
	DropRate float64
	// DuplicateRate is the fraction (0..1) of events sent twice.
	DuplicateRate float64
	// DelayMax: each event waits a random 0..DelayMax before it is sent
	// (0 sends at once).
	DelayMax time.Duration
	// HoldRate is the fraction (0..1) of the events not dropped that are
	// held back until ReleaseHeldEvents: events that arrive after a sweep
	// ran, whatever its duration (tests).
	HoldRate float64
}

// EventStats count what the faults did to ObjectCreated events.
type EventStats struct {
	// Dropped, Duplicated and Delayed events so far.
	Dropped, Duplicated, Delayed int64
	// Pending delayed events not sent yet.
	Pending int64
	// Held events (sends: a duplicated event counts twice) waiting for
	// ReleaseHeldEvents.
	Held int64
	// HeldKeys are the keys of the events held back so far, by bucket.
	HeldKeys map[string][]string
	// DroppedKeys are the keys of the dropped events, by bucket.
	DroppedKeys map[string][]string
}

// faultState is the Service's fault knobs and counters.
type faultState struct {
	mu          sync.Mutex
	f           EventFaults
	droppedKeys map[string][]string
	dropped     atomic.Int64
	duplicated  atomic.Int64
	delayed     atomic.Int64
	pending     atomic.Int64
	held        []func()
	heldKeys    map[string][]string
}

// SetEventFaults changes the event faults of a running emulator (tests and
// `worker --dev` flags set them).
func (s *Service) SetEventFaults(f EventFaults) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.f = f
}

// EventFaults returns the current event faults.
func (s *Service) EventFaults() EventFaults {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	return s.faults.f
}

// EventStats returns what the faults did so far.
func (s *Service) EventStats() EventStats {
	s.faults.mu.Lock()
	held := int64(len(s.faults.held))
	keys, heldKeys := copyKeys(s.faults.droppedKeys), copyKeys(s.faults.heldKeys)
	s.faults.mu.Unlock()
	return EventStats{Dropped: s.faults.dropped.Load(), Duplicated: s.faults.duplicated.Load(),
		Delayed: s.faults.delayed.Load(), Pending: s.faults.pending.Load(), Held: held, DroppedKeys: keys, HeldKeys: heldKeys}
}

func copyKeys(m map[string][]string) map[string][]string {
	out := make(map[string][]string, len(m))
	for b, k := range m {
		out[b] = append([]string(nil), k...)
	}
	return out
}

// ReleaseHeldEvents sends the events HoldRate held back (each after its
// delay, as planned) and returns how many.
func (s *Service) ReleaseHeldEvents() int {
	s.faults.mu.Lock()
	held := s.faults.held
	s.faults.held = nil
	s.faults.mu.Unlock()
	for _, send := range held {
		send()
	}
	return len(held)
}

// holdOrSend keeps send for ReleaseHeldEvents when hold is set, else runs
// it.
func (s *Service) holdOrSend(hold bool, send func()) {
	if hold {
		s.faults.mu.Lock()
		s.faults.held = append(s.faults.held, send)
		s.faults.mu.Unlock()
		return
	}
	send()
}

// faultPlan decides the fate of one ObjectCreated event: dropped, or sent
// copies times after delay, maybe held back first.
func (s *Service) faultPlan(bucket, key string) (drop bool, copies int, delay time.Duration, hold bool) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	f := s.faults.f
	if f.DropRate > 0 && rand.Float64() < f.DropRate {
		if s.faults.droppedKeys == nil {
			s.faults.droppedKeys = map[string][]string{}
		}
		s.faults.droppedKeys[bucket] = append(s.faults.droppedKeys[bucket], key)
		s.faults.dropped.Add(1)
		return true, 0, 0, false
	}
	copies = 1
	if f.DuplicateRate > 0 && rand.Float64() < f.DuplicateRate {
		copies = 2
		s.faults.duplicated.Add(1)
	}
	if f.DelayMax > 0 {
		delay = rand.N(f.DelayMax)
		s.faults.delayed.Add(1)
	}
	if hold = f.HoldRate > 0 && rand.Float64() < f.HoldRate; hold {
		if s.faults.heldKeys == nil {
			s.faults.heldKeys = map[string][]string{}
		}
		s.faults.heldKeys[bucket] = append(s.faults.heldKeys[bucket], key)
	}
	return false, copies, delay, hold
}

// later runs send after delay (at once when delay is 0), counting it as
// pending meanwhile; nothing is sent once the emulator is closed.
func (s *Service) later(delay time.Duration, send func()) {
	if delay <= 0 {
		send()
		return
	}
	s.faults.pending.Add(1)
	time.AfterFunc(delay, func() {
		defer s.faults.pending.Add(-1)
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if !closed {
			send()
		}
	})
}
