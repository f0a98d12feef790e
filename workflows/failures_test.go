package workflows

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// withFailureAlerts is opts with the worker's FailureAlerts interceptor
// (and the summary check).
func withFailureAlerts(t *testing.T) worker.Options {
	return summaryChecked(t, worker.Options{DeadlockDetectionTimeout: 10 * time.Second,
		Interceptors: []interceptor.WorkerInterceptor{&FailureAlerts{}}})
}

// #19: an S3Object run whose archive copy failed its check (MoveObject:
// ChecksumMismatch, the bad copy deleted) left the source in place with
// no dead-letter copy and no alert. It now dead-letters the source with
// the error, posts one alert and fails DeadLettered.
func TestS3ObjectArchiveChecksumMismatchDeadLetters(t *testing.T) {
	e := newS3ObjEnv(t, activities.S3ObjectCheck{State: activities.ObjectPresent, ETag: "abc", Size: 3})
	e.SetWorkerOptions(withFailureAlerts(t))
	e.moveErr = func(in activities.MoveObjectInput) error {
		if in.Error == "" { // the archive move
			return temporal.NewNonRetryableApplicationError("copy s3://inbox/bak/x has 7 bytes, source 3; the copy was deleted", activities.ErrTypeChecksumMismatch, nil)
		}
		return nil
	}
	_, err := runS3Object(t, e, testPipeline(flowdata.ProcessorHTTP))
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != "DeadLettered" {
		t.Fatalf("want a DeadLettered failure, got %v", err)
	}
	if len(e.moves) != 2 || e.moves[1].DestKey != "failed/incoming/a b+c.csv" ||
		!strings.Contains(e.moves[1].Error, "archive: copy s3://inbox/bak/x has 7 bytes") {
		t.Fatalf("moves %+v, want the archive move then the dead-letter move with the error", e.moves)
	}
	if len(e.slack) != 1 || e.slack[0].Color != activities.SlackDanger {
		t.Fatalf("slack %+v, want exactly one alert", e.slack)
	}
}

// #19: S3Object runs whose HeadObject answered 400 were retried for ever
// without an alert. A check that fails for good now dead-letters (or
// says why it could not) and alerts once.
func TestS3ObjectCheckFailureAlertsOnce(t *testing.T) {
	e := newS3ObjEnv(t, activities.S3ObjectCheck{})
	e.SetWorkerOptions(withFailureAlerts(t))
	headErr := temporal.NewNonRetryableApplicationError("S3 HeadObject s3://inbox/incoming/a b+c.csv: BadRequest: Bad Request (HTTP 400)", activities.ErrTypeBadInput, nil)
	e.checkErr = headErr
	e.moveErr = func(activities.MoveObjectInput) error { return headErr }
	_, err := runS3Object(t, e, testPipeline(flowdata.ProcessorHTTP))
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != "DeadLetterFailed" {
		t.Fatalf("want a DeadLetterFailed failure, got %v", err)
	}
	if e.count("process") != 0 {
		t.Errorf("processed an object whose check failed")
	}
	if len(e.slack) != 1 || !strings.Contains(e.slack[0].Fields[len(e.slack[0].Fields)-1].Value, "HTTP 400") {
		t.Fatalf("slack %+v, want exactly one alert with the error", e.slack)
	}
}

// alertEnv runs fake flows registered under real flow names with the
// FailureAlerts interceptor, recording Slack posts.
type alertEnv struct {
	mu    sync.Mutex
	slack []activities.SlackMessage
}

func (a *alertEnv) posts(color string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, m := range a.slack {
		if m.Color == color {
			n++
		}
	}
	return n
}

// fakeFlowInput is what the fake flows take: a webhook variable as the
// real inputs name it.
type fakeFlowInput struct {
	AlertWebhookEnv string `json:"alertWebhookEnv"`
	AlertsItself    bool   `json:"alertsItself"`
}

const boomName = "Boom"

// fakeFlow tracks its status, waits an hour (signals arrive meanwhile),
// then fails, after posting its own alert when told to.
func fakeFlow(ctx workflow.Context, in fakeFlowInput) error {
	st := NewTracker(ctx, "fake", "target")
	st.SetPhase(PhaseRunning)
	if err := workflow.Sleep(ctx, time.Hour); err != nil {
		return err
	}
	err := workflow.ExecuteActivity(Summarized(workflow.WithActivityOptions(ctx, ShortCallOptions()), "boom"), boomName).Get(ctx, nil)
	if in.AlertsItself {
		notify(ctx, activities.SlackMessage{Color: activities.SlackDanger, Text: "own alert"})
	}
	st.Fail(err)
	return err
}

// Every terminal failure posts exactly one alert: FailureAlerts' when
// the run posted none, none more when it did; a run that keeps failing
// shows the attempt and error in its status and warns once.
func TestFailureAlertsOnce(t *testing.T) {
	for _, tc := range []struct {
		name         string
		alertsItself bool
	}{{"flow without its own alert", false}, {"flow with its own alert", true}} {
		t.Run(tc.name, func(t *testing.T) {
			a := &alertEnv{}
			env := newTestEnv(t)
			env.SetWorkerOptions(withFailureAlerts(t))
			env.RegisterWorkflowWithOptions(fakeFlow, workflow.RegisterOptions{Name: GlacierRetrieveName})
			env.RegisterActivityWithOptions(func(context.Context) error {
				return temporal.NewNonRetryableApplicationError("archive x not found", activities.ErrTypeNotFound, nil)
			}, activity.RegisterOptions{Name: boomName})
			(&activities.Slack{}).Register(env)
			env.OnActivity(activities.SlackNotifyName, mock.Anything, mock.Anything).Return(func(_ context.Context, m activities.SlackMessage) error {
				a.mu.Lock()
				a.slack = append(a.slack, m)
				a.mu.Unlock()
				return nil
			})
			var seen Status
			for i, attempt := range []int32{2, 5, 6} {
				env.RegisterDelayedCallback(func() {
					env.SignalWorkflow(activities.ActivityFailingSignal, activities.ActivityFailure{Activity: "DownloadRange", Attempt: attempt, Error: "no space left on device"})
				}, time.Duration(i+1)*time.Minute)
			}
			env.RegisterDelayedCallback(func() {
				v, err := env.QueryWorkflow(StatusQuery)
				if err == nil {
					err = v.Get(&seen)
				}
				if err != nil {
					t.Errorf("status query: %v", err)
				}
			}, 30*time.Minute)
			env.ExecuteWorkflow(GlacierRetrieveName, fakeFlowInput{AlertWebhookEnv: "TEAM_SLACK", AlertsItself: tc.alertsItself})
			if err := env.GetWorkflowError(); err == nil {
				t.Fatal("the fake flow did not fail")
			}
			if seen.Attempt != 7 || !strings.Contains(seen.LastError, "DownloadRange attempt 6: no space left on device") ||
				!strings.Contains(seen.CurrentDetails(), "**attempt**: 7") {
				t.Errorf("status while failing: attempt %d, last error %q, want attempt 7 and the error", seen.Attempt, seen.LastError)
			}
			if n := a.posts(activities.SlackWarning); n != 1 {
				t.Errorf("%d warnings for an activity that kept failing, want 1", n)
			}
			if n := a.posts(activities.SlackDanger); n != 1 {
				t.Errorf("%d failure alerts, want exactly 1 (%+v)", n, a.slack)
			}
			for _, m := range a.slack {
				if !tc.alertsItself && m.WebhookEnv != "TEAM_SLACK" {
					t.Errorf("alert to %q, want the input's TEAM_SLACK", m.WebhookEnv)
				}
			}
		})
	}
}

// A cancelled run posts no failure alert.
func TestFailureAlertsNotOnCancel(t *testing.T) {
	a := &alertEnv{}
	env := newTestEnv(t)
	env.SetWorkerOptions(withFailureAlerts(t))
	env.RegisterWorkflowWithOptions(fakeFlow, workflow.RegisterOptions{Name: S3RestoreName})
	(&activities.Slack{}).Register(env)
	env.OnActivity(activities.SlackNotifyName, mock.Anything, mock.Anything).Return(func(_ context.Context, m activities.SlackMessage) error {
		a.mu.Lock()
		a.slack = append(a.slack, m)
		a.mu.Unlock()
		return nil
	}).Maybe()
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Minute)
	env.ExecuteWorkflow(S3RestoreName, fakeFlowInput{})
	if err := env.GetWorkflowError(); !temporal.IsCanceledError(err) {
		t.Fatalf("want a cancelled run, got %v", err)
	}
	if len(a.slack) != 0 {
		t.Errorf("a cancelled run posted %+v", a.slack)
	}
}
