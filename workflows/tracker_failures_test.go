package workflows

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
)

// trackedWait shows a status for a long phase and does nothing else.
func trackedWait(ctx workflow.Context) error {
	st := NewTracker(ctx, "fake", "target")
	st.SetPhase(PhaseRunning)
	return workflow.Sleep(ctx, time.Hour)
}

// A failed attempt that a later attempt of the same activity recovers is
// no longer shown; a recovery of another activity of the same type (other
// ID) leaves it. Seen failing: "attempt 3" stayed for the whole phase.
func TestTrackerClearsRecoveredFailure(t *testing.T) {
	env := newTestEnv(t)
	env.RegisterWorkflow(trackedWait)
	failing := activities.ActivityFailure{Activity: "DownloadRange", Attempt: 2, Error: "connection reset", ActivityID: "7"}
	var afterOther, afterRecovery Status
	query := func(into *Status) func() {
		return func() {
			v, err := env.QueryWorkflow(StatusQuery)
			if err == nil {
				err = v.Get(into)
			}
			if err != nil {
				t.Errorf("status query: %v", err)
			}
		}
	}
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(activities.ActivityFailingSignal, failing) }, time.Minute)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(activities.ActivityRecoveredSignal, activities.ActivityFailure{Activity: "DownloadRange", Attempt: 2, ActivityID: "8"})
	}, 2*time.Minute)
	env.RegisterDelayedCallback(query(&afterOther), 3*time.Minute)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(activities.ActivityRecoveredSignal, activities.ActivityFailure{Activity: "DownloadRange", Attempt: 3, ActivityID: "7"})
	}, 4*time.Minute)
	env.RegisterDelayedCallback(query(&afterRecovery), 5*time.Minute)
	env.ExecuteWorkflow(trackedWait)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if afterOther.Attempt != 3 || afterOther.LastError != "DownloadRange attempt 2: connection reset" {
		t.Errorf("after another range recovered: attempt %d, error %q; want attempt 3 and the error shown", afterOther.Attempt, afterOther.LastError)
	}
	if afterRecovery.Attempt != 0 || afterRecovery.LastError != "" || afterRecovery.Phase != PhaseRunning {
		t.Errorf("after its recovery: attempt %d, error %q, phase %s; want the failure cleared, still running",
			afterRecovery.Attempt, afterRecovery.LastError, afterRecovery.Phase)
	}
}

// The worker's ClassifyInterceptor signals a retried attempt that
// succeeded, before its completion (recorded against a real server, with
// the production interceptors): the failure signal of attempt 1, then the
// recovery of attempt 2, each with the activity's ID.
func TestRecoveredSignalRecorded(t *testing.T) {
	hist := recordedHistory(t, "s3object-v2-recovered.json")
	var signals []string
	for _, e := range hist.GetEvents() {
		if a := e.GetWorkflowExecutionSignaledEventAttributes(); a != nil {
			var f activities.ActivityFailure
			if err := converter.GetDefaultDataConverter().FromPayloads(a.GetInput(), &f); err != nil {
				t.Fatal(err)
			}
			signals = append(signals, fmt.Sprintf("%s %s %d id=%v", a.GetSignalName(), f.Activity, f.Attempt, f.ActivityID != ""))
		}
	}
	want := []string{activities.ActivityFailingSignal + " " + activities.ProcessObjectName + " 1 id=true", activities.ActivityRecoveredSignal + " " + activities.ProcessObjectName + " 2 id=true"}
	if !slices.Equal(signals, want) {
		t.Errorf("signals %q, want %q", signals, want)
	}
}
