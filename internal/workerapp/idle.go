package workerapp

import (
	"context"
	"sync"
	"time"

	"go.temporal.io/sdk/worker"
)

// idleSlots is the slot count of each task type under the idle tracker:
// the SDK's default concurrency (1000 workflow tasks, activities, local
// activities), which a worker without a tuner gets too.
const idleSlots = 1000

// drainTimeout is how long a worker that exits when idle lets tasks it
// took in the last moment finish (worker.Options.WorkerStopTimeout).
const drainTimeout = time.Minute

// idleTracker knows when the worker last had a task in hand. It wraps the
// SDK's slot suppliers: a slot is marked used when a polled task starts
// being processed and released when it is done, so "no slot in use since
// T" means "no task since T", for workflow tasks, activities, local
// activities and Nexus tasks alike.
type idleTracker struct {
	mu   sync.Mutex
	used map[*worker.SlotPermit]struct{}
	last time.Time
}

func newIdleTracker() *idleTracker {
	return &idleTracker{used: map[*worker.SlotPermit]struct{}{}, last: time.Now()}
}

// tuner is a fixed-size tuner whose suppliers report to t.
func (t *idleTracker) tuner() (worker.WorkerTuner, error) {
	s := func() (worker.SlotSupplier, error) {
		inner, err := worker.NewFixedSizeSlotSupplier(idleSlots)
		if err != nil {
			return nil, err
		}
		return &trackedSupplier{SlotSupplier: inner, t: t}, nil
	}
	var opts worker.CompositeTunerOptions
	for _, p := range []*worker.SlotSupplier{&opts.WorkflowSlotSupplier, &opts.ActivitySlotSupplier,
		&opts.LocalActivitySlotSupplier, &opts.NexusSlotSupplier, &opts.SessionActivitySlotSupplier} {
		var err error
		if *p, err = s(); err != nil {
			return nil, err
		}
	}
	return worker.NewCompositeTuner(opts)
}

// idleFor reports whether no task has been in hand for d, and if not, how
// long to wait before asking again.
func (t *idleTracker) idleFor(d time.Duration) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.used) > 0 {
		return false, d
	}
	left := d - time.Since(t.last)
	return left <= 0, left
}

// waitIdle returns true once no task has been in hand for d, false when
// ctx ends first.
func (t *idleTracker) waitIdle(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-timer.C:
		}
		idle, left := t.idleFor(d)
		if idle {
			return true
		}
		timer.Reset(left)
	}
}

// trackedSupplier passes everything to its supplier and tells the tracker
// when a slot starts and stops being used for a task.
type trackedSupplier struct {
	worker.SlotSupplier
	t *idleTracker
}

func (s *trackedSupplier) MarkSlotUsed(info worker.SlotMarkUsedInfo) {
	s.t.mu.Lock()
	s.t.used[info.Permit()] = struct{}{}
	s.t.mu.Unlock()
	s.SlotSupplier.MarkSlotUsed(info)
}

func (s *trackedSupplier) ReleaseSlot(info worker.SlotReleaseInfo) {
	s.t.mu.Lock()
	if _, ok := s.t.used[info.Permit()]; ok {
		delete(s.t.used, info.Permit())
		s.t.last = time.Now()
	}
	s.t.mu.Unlock()
	s.SlotSupplier.ReleaseSlot(info)
}
