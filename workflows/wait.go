package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/workflow"
)

// When a wait continues as new (waitContinueChange, version 1): after
// WaitPollsPerRun polls in one run, or once the run's history reaches
// waitHistoryEvents events or the server suggests continuing as new. A
// poll costs about eventsPerPoll events (timer started and fired, activity
// scheduled, started and completed, two workflow tasks of three), so a run
// stays near 1,200 events, far below Temporal's 10,240-event warning.
const (
	// WaitPollsPerRun is the number of polls after which a wait continues
	// as new.
	WaitPollsPerRun   = 100
	waitHistoryEvents = 1500
	eventsPerPoll     = 11
)

// waitContinueChange is the workflow.GetVersion change ID of waits that
// continue as new (version 1). Runs recorded before it replay with
// DefaultVersion and wait in one run.
const waitContinueChange = "wait-continue-as-new"

// errWaitContinue ends a wait whose run should continue as new: the caller
// carries the wait's state into the next run.
var errWaitContinue = errors.New("wait continues as new")

// waitBounded tells whether this run's waits continue as new.
func waitBounded(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, waitContinueChange, workflow.DefaultVersion, 1) >= 1
}

// pollPlan is when a polling fallback looks: a first poll when the awaited
// job could plausibly be done, then every interval.
type pollPlan struct{ first, every time.Duration }

// completionWait is one wait for an external job: a completion signal, a
// polling fallback on a timer, and a deadline — the pattern every
// long-running flow uses instead of sleeping.
type completionWait struct {
	st *Tracker
	// what names the awaited job in the Web UI summary of each wait.
	what string
	// typical says how long such a job usually takes (the run's current
	// details show it; "" for none).
	typical  string
	signals  workflow.ReceiveChannel
	plan     pollPlan
	deadline time.Time
	// done reports whether the job is complete.
	done func() bool
	// onSignal receives one signal from signals (it may be for another job).
	onSignal func(c workflow.ReceiveChannel)
	// poll asks the external system once.
	poll func() error
	// expired is the error returned at the deadline.
	expired func() error
	// backoff, when set, gives the interval after each poll from the
	// previous one (adaptive polling); nil uses plan.every.
	backoff func(prev time.Duration) time.Duration
	// bounded ends the wait with errWaitContinue when the run should
	// continue as new (waitBounded), after draining pending signals.
	bounded bool

	// polls counts this run's polls; next is the interval to the next
	// poll (both read when the wait returns errWaitContinue).
	polls int
	next  time.Duration
}

// run waits until done, a poll fails, the deadline passes, or (bounded)
// the run should continue as new.
func (w *completionWait) run(ctx workflow.Context) error {
	w.next = w.plan.first
	for !w.done() {
		if w.bounded && w.continueDue(ctx) {
			w.drain(ctx)
			if w.done() {
				break
			}
			return errWaitContinue
		}
		next := w.next
		w.st.SetPhase(PhaseWaiting)
		remaining := w.deadline.Sub(workflow.Now(ctx))
		if remaining <= 0 {
			return w.expired()
		}
		timerCtx, cancelTimer := workflow.WithCancel(ctx)
		wait := min(next, remaining)
		w.st.Update(func(s *Status) {
			s.Waiting = &WaitInfo{For: "notification of " + w.what + ", else a poll", Typical: w.typical,
				Next: workflow.Now(ctx).Add(wait), NextIs: "poll", Deadline: w.deadline}
		})
		timer := workflow.NewTimerWithOptions(timerCtx, wait, workflow.TimerOptions{
			Summary: "wait for notification of " + w.what + ", else poll in " + wait.String()})
		fired := false
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(w.signals, func(c workflow.ReceiveChannel, _ bool) { w.onSignal(c) })
		sel.AddFuture(timer, func(workflow.Future) { fired = true })
		sel.Select(ctx)
		cancelTimer()
		if !fired || !workflow.Now(ctx).Before(w.deadline) {
			continue // a signal (ours or not), or the deadline
		}
		if err := w.poll(); err != nil {
			return err
		}
		w.polls++
		if w.backoff != nil {
			w.next = w.backoff(next)
		} else {
			w.next = w.plan.every
		}
	}
	return nil
}

// continueDue tells whether this run has polled or grown enough to
// continue as new.
func (w *completionWait) continueDue(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	return w.polls >= WaitPollsPerRun || info.GetCurrentHistoryLength() >= waitHistoryEvents || info.GetContinueAsNewSuggested()
}

// drain handles the signals already received, so that none is lost when
// the run continues as new (a signal arriving later fails the completion
// of the workflow task, which is then run again with it).
func (w *completionWait) drain(ctx workflow.Context) {
	for got := true; got; {
		got = false
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(w.signals, func(c workflow.ReceiveChannel, _ bool) { w.onSignal(c); got = true })
		sel.AddDefault(func() {})
		sel.Select(ctx)
	}
}
