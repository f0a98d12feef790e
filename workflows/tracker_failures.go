package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
)

// FailingAlertAttempts is the failed attempt of one activity after which
// its run posts one Slack warning that it keeps failing (once per activity
// type and run); the retries go on until the activity's limit
// (options.go). With ShortCallOptions' backoff the fifth attempt fails
// about 15 s after the first; with TransferOptions' about 30 s.
const FailingAlertAttempts = 5

// failingAlertChange is the workflow.GetVersion change ID of the
// "keeps failing" warning (version 1).
const failingAlertChange = "vigil-failing-alert"

// watchFailures receives the ActivityFailingSignal that the worker's
// activities.ClassifyInterceptor sends for each failed attempt that will
// be retried: the status (query, `starter status`, the Web UI's current
// details) then shows the attempt and its error until the phase changes,
// and the FailingAlertAttempts-th failure of an activity posts one
// warning. A history without the signal (recorded before it existed)
// replays unchanged: the goroutine only waits.
//
// An ActivityRecoveredSignal (a retried attempt that succeeded) clears the
// shown failure when it names the same activity, so a recovered retry does
// not show "attempt N" for the rest of a long phase. Both signals only
// change the status (no commands).
func (t *Tracker) watchFailures() {
	ch := workflow.GetSignalChannel(t.ctx, activities.ActivityFailingSignal)
	recovered := workflow.GetSignalChannel(t.ctx, activities.ActivityRecoveredSignal)
	workflow.Go(t.ctx, func(ctx workflow.Context) {
		for {
			var f activities.ActivityFailure
			if !ch.Receive(ctx, &f) {
				return
			}
			t.showFailure(f)
			if f.Attempt >= FailingAlertAttempts {
				t.alertFailing(ctx, f)
			}
		}
	})
	workflow.Go(t.ctx, func(ctx workflow.Context) {
		for {
			var f activities.ActivityFailure
			if !recovered.Receive(ctx, &f) {
				return
			}
			t.recoverFailure(f)
		}
	})
}

// showFailure puts a failed attempt into the status.
func (t *Tracker) showFailure(f activities.ActivityFailure) {
	t.st.Attempt = int(f.Attempt) + 1
	t.st.LastError = fmt.Sprintf("%s attempt %d: %s", f.Activity, f.Attempt, f.Error)
	t.failureShown, t.shownFailure = true, f
	t.publish()
}

// recoverFailure clears the shown failure when a recovered retry names
// the same activity.
func (t *Tracker) recoverFailure(f activities.ActivityFailure) {
	if t.failureShown && t.shownFailure.Activity == f.Activity && t.shownFailure.ActivityID == f.ActivityID {
		t.clearFailure()
		t.publish()
	}
}

// clearFailure drops a shown failed attempt (the run moved on, or the
// activity recovered).
func (t *Tracker) clearFailure() {
	if t.failureShown {
		t.st.Attempt, t.st.LastError, t.failureShown = 0, "", false
	}
}

// alertFailing posts the one warning for an activity that keeps failing.
func (t *Tracker) alertFailing(ctx workflow.Context, f activities.ActivityFailure) {
	a := t.alerts
	if a.failing[f.Activity] {
		return
	}
	if a.failing == nil {
		a.failing = map[string]bool{}
	}
	a.failing[f.Activity] = true
	if workflow.GetVersion(ctx, failingAlertChange, workflow.DefaultVersion, 1) < 1 {
		return
	}
	id := workflow.GetInfo(ctx).WorkflowExecution.ID
	notify(ctx, activities.SlackMessage{
		WebhookEnv: a.webhookEnv,
		Text:       fmt.Sprintf("vigil: %s %s: %s keeps failing (attempt %d), still retrying", t.st.Flow, id, f.Activity, f.Attempt),
		Color:      activities.SlackWarning,
		Title:      fmt.Sprintf("%s keeps failing in %s run %s", f.Activity, t.st.Flow, id),
		Fields: []activities.SlackField{
			{Title: "Attempt", Value: fmt.Sprint(f.Attempt), Short: true},
			{Title: "Phase", Value: t.st.Phase, Short: true},
			{Title: "Error", Value: f.Error},
		},
		Footer: "starter status " + id,
	})
}
