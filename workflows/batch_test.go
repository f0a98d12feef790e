package workflows

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

func httpJob(retry *flowdata.JobRetry) flowdata.BatchJob {
	return flowdata.BatchJob{Name: "nightly-dump", Kind: flowdata.JobKindHTTP,
		HTTP:  &flowdata.HTTPJob{Method: "POST", URL: "http://127.0.0.1:5000/s3dump"},
		Retry: retry}
}

func newBatchEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	env := newTestEnv(t)
	(&activities.HTTPJob{}).Register(env)
	(&activities.Exec{}).Register(env)
	(&activities.S3{}).Register(env)
	(&activities.SQS{}).Register(env)
	(&activities.Slack{}).Register(env)
	t.Cleanup(func() { env.AssertExpectations(t) })
	return env
}

func unexpected(code int) error {
	out := activities.JobOutput{StatusCode: code, Summary: "HTTP " + strconv.Itoa(code)}
	return temporal.NewApplicationError(out.Summary, activities.ErrTypeUnexpectedStatus, out)
}

func TestBatchRetriesThenSucceeds(t *testing.T) {
	env := newBatchEnv(t)
	var a *activities.HTTPJob
	var attempts []int
	env.OnActivity(a.Call, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.HTTPCallInput) (activities.JobOutput, error) {
			attempts = append(attempts, in.Ctx.Attempt)
			if in.Ctx.Attempt < 3 {
				return activities.JobOutput{}, unexpected(503)
			}
			return activities.JobOutput{StatusCode: 200, Summary: "HTTP 200"}, nil
		}).Times(3)
	var sleeps []time.Duration
	env.SetOnTimerScheduledListener(func(_ string, d time.Duration) { sleeps = append(sleeps, d) })
	env.ExecuteWorkflow(BatchJobWorkflow, BatchJobInput{Job: httpJob(&flowdata.JobRetry{
		InitialInterval: flowdata.Duration(10 * time.Second), BackoffCoefficient: 2, MaximumAttempts: 5})})
	var res BatchJobResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Attempts != 3 || res.Status != "succeeded" || res.Output.StatusCode != 200 {
		t.Errorf("result = %+v", res)
	}
	if len(sleeps) != 2 || sleeps[0] != 10*time.Second || sleeps[1] != 20*time.Second {
		t.Errorf("backoff sleeps = %v, want [10s 20s]", sleeps)
	}
	if !slices.Equal(attempts, []int{1, 2, 3}) {
		t.Errorf("attempt numbers = %v", attempts)
	}
}

func TestBatchNonRetryableStatusStopsAndAlerts(t *testing.T) {
	env := newBatchEnv(t)
	var a *activities.HTTPJob
	var slack *activities.Slack
	env.OnActivity(a.Call, mock.Anything, mock.Anything).Return(activities.JobOutput{},
		temporal.NewNonRetryableApplicationError("HTTP 401", activities.ErrTypeNonRetryableStatus, nil)).Once()
	var alert activities.SlackMessage
	env.OnActivity(slack.Notify, mock.Anything, mock.Anything).Return(func(_ context.Context, m activities.SlackMessage) error {
		alert = m
		return nil
	}).Once()
	env.ExecuteWorkflow(BatchJobWorkflow, BatchJobInput{Job: httpJob(&flowdata.JobRetry{NonRetryableStatus: []int{401}})})
	err := env.GetWorkflowError()
	if err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("want failure naming HTTP 401, got %v", err)
	}
	if alert.Color != activities.SlackDanger || !strings.Contains(alert.Title, "nightly-dump") || !strings.Contains(alert.Footer, "starter status") {
		t.Errorf("alert = %+v", alert)
	}
	st := queryStatus(t, env)
	if st.Phase != PhaseFailed || st.Attempt != 1 || !strings.Contains(st.LastError, "401") {
		t.Errorf("status = %+v", st)
	}
}

func TestBatchSlackFailureKeepsJobError(t *testing.T) {
	env := newBatchEnv(t)
	var a *activities.HTTPJob
	var slack *activities.Slack
	env.OnActivity(a.Call, mock.Anything, mock.Anything).Return(activities.JobOutput{}, unexpected(500)).Times(2)
	env.OnActivity(slack.Notify, mock.Anything, mock.Anything).Return(errors.New("slack down")).Times(5)
	env.ExecuteWorkflow(BatchJobWorkflow, BatchJobInput{Job: httpJob(&flowdata.JobRetry{MaximumAttempts: 2})})
	err := env.GetWorkflowError()
	if err == nil || !strings.Contains(err.Error(), "HTTP 500") || strings.Contains(err.Error(), "slack") {
		t.Fatalf("want the job's own error, got %v", err)
	}
}

func TestBatchOverallTimeout(t *testing.T) {
	env := newBatchEnv(t)
	var a *activities.HTTPJob
	var slack *activities.Slack
	env.OnActivity(a.Call, mock.Anything, mock.Anything).Return(activities.JobOutput{}, unexpected(503))
	env.OnActivity(slack.Notify, mock.Anything, mock.Anything).Return(nil).Once()
	job := httpJob(&flowdata.JobRetry{InitialInterval: flowdata.Duration(time.Minute), BackoffCoefficient: 1, MaximumAttempts: 100})
	job.Timeout = flowdata.Duration(150 * time.Second)
	env.ExecuteWorkflow(BatchJobWorkflow, BatchJobInput{Job: job})
	err := env.GetWorkflowError()
	if err == nil || !strings.Contains(err.Error(), "time out") {
		t.Fatalf("want a timeout failure, got %v", err)
	}
	if st := queryStatus(t, env); st.Attempt != 3 {
		t.Errorf("attempts before the 150s timeout = %d, want 3 (t=0, 60s, 120s)", st.Attempt)
	}
}

func TestBatchUsesScheduledTime(t *testing.T) {
	env := newBatchEnv(t)
	var a *activities.S3
	nominal := time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)
	env.SetTypedSearchAttributesOnStart(temporal.NewSearchAttributes(
		scheduledStartKey.ValueSet(nominal), scheduledByKey.ValueSet("nightly")))
	var got activities.JobContext
	env.OnActivity(a.PutJobObject, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.S3PutJobInput) (activities.JobOutput, error) {
		got = in.Ctx
		return activities.JobOutput{Summary: "put"}, nil
	}).Once()
	env.ExecuteWorkflow(BatchJobWorkflow, BatchJobInput{Job: flowdata.BatchJob{Name: "dummy-feed", Kind: flowdata.JobKindS3Put,
		S3Put: &flowdata.S3PutJob{Bucket: "feed-store", Key: "k", Content: "batch job"}}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if !got.ScheduledTime.Equal(nominal) || got.ScheduleID != "nightly" || got.RunID == "" {
		t.Errorf("job context = %+v", got)
	}
}

func queryStatus(t *testing.T, env *testsuite.TestWorkflowEnvironment) Status {
	t.Helper()
	v, err := env.QueryWorkflow(StatusQuery)
	if err != nil {
		t.Fatal(err)
	}
	var st Status
	if err := v.Get(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestBatchFailureMessageIsOneLine: a job whose error runs over several
// lines fails the run with a one-line message (what the Web UI shows);
// the whole error is in the failure's details and cause.
func TestBatchFailureMessageIsOneLine(t *testing.T) {
	env := newBatchEnv(t)
	var a *activities.HTTPJob
	long := "HTTP 500: Traceback (most recent call last):\n  File \"dump.py\", line 3\n    boom()\nRuntimeError: boom"
	env.OnActivity(a.Call, mock.Anything, mock.Anything).Return(activities.JobOutput{},
		temporal.NewNonRetryableApplicationError(long, activities.ErrTypeNonRetryableStatus, nil)).Once()
	env.OnActivity(activities.SlackNotifyName, mock.Anything, mock.Anything).Return(nil).Maybe()
	env.ExecuteWorkflow(BatchJobWorkflow, BatchJobInput{Job: httpJob(nil)})
	var ae *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &ae) || ae.Type() != ErrTypeJobFailed {
		t.Fatalf("error %v, want %s", err, ErrTypeJobFailed)
	}
	if want := "job nightly-dump failed after 1 attempt(s): HTTP 500: Traceback (most recent call last):"; ae.Message() != want {
		t.Errorf("message %q, want %q", ae.Message(), want)
	}
	var full string
	if err := ae.Details(&full); err != nil || full != long {
		t.Errorf("details %q (%v), want the whole error", full, err)
	}
}
