package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
)

// Tracker holds a run's Status and answers the StatusQuery with it. Every
// flow creates one first thing.
type Tracker struct {
	ctx workflow.Context
	st  Status
	// alerts is the run's alert bookkeeping (alerts.go).
	alerts *runAlerts
	// failureShown: Attempt and LastError show a failed attempt that an
	// activity reported (tracker_failures.go), cleared on a phase change.
	failureShown bool
	// shownFailure is the failed attempt shown (its activity and ID).
	shownFailure activities.ActivityFailure
}

// NewTracker registers the status query, stamps the start time, sets the
// VigilFlow and VigilTarget search attributes and starts showing the
// failed attempts its activities report (watchFailures).
func NewTracker(ctx workflow.Context, flow, target string) *Tracker {
	now := workflow.Now(ctx)
	t := &Tracker{ctx: ctx, st: Status{Flow: flow, Target: target, Phase: PhaseStarting, Started: now, Since: now}, alerts: alertsOf(ctx)}
	// A query handler can only fail to register on a duplicate name.
	_ = workflow.SetQueryHandler(ctx, StatusQuery, func() (Status, error) { return t.st, nil })
	// Set here rather than by the starter so that runs started by schedules,
	// the Web UI or other tools are searchable too.
	if err := workflow.UpsertTypedSearchAttributes(ctx, FlowKey.ValueSet(flow), TargetKey.ValueSet(target)); err != nil {
		workflow.GetLogger(ctx).Warn("cannot set search attributes", "error", err)
	}
	t.publish()
	t.watchFailures()
	return t
}

// Status returns a copy of the current status.
func (t *Tracker) Status() Status { return t.st }

// SetPhase moves to phase and stamps Since.
func (t *Tracker) SetPhase(phase string) {
	if t.st.Phase != phase {
		t.clearFailure()
		t.st.Waiting = nil
		t.st.Phase = phase
		t.st.Since = workflow.Now(t.ctx)
		t.publish()
	}
}

// Update lets a flow change any other field.
func (t *Tracker) Update(f func(*Status)) { f(&t.st); t.publish() }

// Fail records err and moves to PhaseFailed.
func (t *Tracker) Fail(err error) {
	t.failureShown = false
	t.st.LastError = err.Error()
	t.SetPhase(PhaseFailed)
}
