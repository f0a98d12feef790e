package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// The worst case a job file could ask for before the bounds (a thousand
// attempts 1 ms apart within 30 days) is clamped: at most MaxJobAttempts
// attempts, at least MinRetryInterval apart, one alert, and a history
// (attempts × eventsPerJobAttempt) below 2,000 events. Seen failing
// before: 1,000 attempts (~13,000 events).
func TestBatchRetryWorstCaseBounded(t *testing.T) {
	env := newBatchEnv(t)
	var a *activities.HTTPJob
	var slack *activities.Slack
	attempts := 0
	env.OnActivity(a.Call, mock.Anything, mock.Anything).Return(func(context.Context, activities.HTTPCallInput) (activities.JobOutput, error) {
		attempts++
		return activities.JobOutput{}, unexpected(503)
	})
	alerts := 0
	env.OnActivity(slack.Notify, mock.Anything, mock.Anything).Return(func(context.Context, activities.SlackMessage) error {
		alerts++
		return nil
	})
	var sleeps []time.Duration
	env.SetOnTimerScheduledListener(func(_ string, d time.Duration) { sleeps = append(sleeps, d) })
	job := httpJob(&flowdata.JobRetry{InitialInterval: flowdata.Duration(time.Millisecond), BackoffCoefficient: 1,
		MaximumInterval: flowdata.Duration(time.Millisecond), MaximumAttempts: 1000})
	job.Timeout = flowdata.Duration(30 * 24 * time.Hour)
	env.ExecuteWorkflow(BatchJobWorkflow, BatchJobInput{Job: job})
	if env.GetWorkflowError() == nil {
		t.Fatal("the job did not fail")
	}
	if attempts != flowdata.MaxJobAttempts || alerts != 1 {
		t.Errorf("%d attempts, %d alerts; want %d and 1", attempts, alerts, flowdata.MaxJobAttempts)
	}
	for _, d := range sleeps {
		if d < flowdata.MinRetryInterval {
			t.Fatalf("retried after %s, want at least %s", d, flowdata.MinRetryInterval)
		}
	}
	if events := eventsPerJobAttempt*attempts + 60; events >= 2000 {
		t.Errorf("%d attempts ≈ %d events: want fewer than 2000", attempts, events)
	}
}

// TestBatchAttemptEventsMeasured checks eventsPerJobAttempt against a
// recorded history: a failed attempt's events up to the next attempt.
func TestBatchAttemptEventsMeasured(t *testing.T) {
	hist := recordedHistory(t, "batch-retry.json")
	var scheduled []int
	for i, e := range hist.GetEvents() {
		if e.GetEventType() == enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED {
			scheduled = append(scheduled, i)
		}
	}
	if len(scheduled) < 2 {
		t.Fatalf("want two attempts in the history, got %d", len(scheduled))
	}
	if n := scheduled[1] - scheduled[0]; n > eventsPerJobAttempt {
		t.Errorf("an attempt costs %d events, eventsPerJobAttempt says %d", n, eventsPerJobAttempt)
	}
}

// An HTTP job call of more than a minute gets a heartbeat timeout (the
// call heartbeats while it waits), so a worker that died mid-call is
// noticed in a minute rather than at the job's timeout; short calls keep
// none. Seen failing: no heartbeat timeout.
func TestBatchLongHTTPCallHasHeartbeatTimeout(t *testing.T) {
	for _, tc := range []struct {
		timeout, want time.Duration
	}{{10 * time.Minute, activities.HTTPHeartbeatTimeout}, {30 * time.Second, 0}} {
		env := newBatchEnv(t)
		var a *activities.HTTPJob
		var got time.Duration
		env.OnActivity(a.Call, mock.Anything, mock.Anything).Return(func(ctx context.Context, _ activities.HTTPCallInput) (activities.JobOutput, error) {
			got = activity.GetInfo(ctx).HeartbeatTimeout
			return activities.JobOutput{StatusCode: 200, Summary: "HTTP 200"}, nil
		})
		job := httpJob(nil)
		job.HTTP.Timeout = flowdata.Duration(tc.timeout)
		env.ExecuteWorkflow(BatchJobWorkflow, BatchJobInput{Job: job})
		if err := env.GetWorkflowError(); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("http timeout %s: heartbeat timeout %s, want %s", tc.timeout, got, tc.want)
		}
	}
}
