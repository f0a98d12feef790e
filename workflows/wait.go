package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// pollPlan is when a polling fallback looks: a first poll when the awaited
// job could plausibly be done, then every interval.
type pollPlan struct{ first, every time.Duration }

// completionWait is one wait for an external job: a completion signal, a
// polling fallback on a timer, and a deadline — the pattern every
// long-running flow uses instead of sleeping.
type completionWait struct {
	st *Tracker
	// what names the awaited job in the Web UI summary of each wait.
	what     string
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
}

// run waits until done, a poll fails, or the deadline passes.
func (w completionWait) run(ctx workflow.Context) error {
	next := w.plan.first
	for !w.done() {
		w.st.SetPhase(PhaseWaiting)
		remaining := w.deadline.Sub(workflow.Now(ctx))
		if remaining <= 0 {
			return w.expired()
		}
		timerCtx, cancelTimer := workflow.WithCancel(ctx)
		wait := min(next, remaining)
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
		if w.backoff != nil {
			next = w.backoff(next)
		} else {
			next = w.plan.every
		}
	}
	return nil
}
