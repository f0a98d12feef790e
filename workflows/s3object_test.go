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
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// s3ObjEnv is a test environment with the S3Object activities registered
// (every one a test calls is mocked) and a record of the calls.
type s3ObjEnv struct {
	*testsuite.TestWorkflowEnvironment
	mu       sync.Mutex
	calls    []string
	moves    []activities.MoveObjectInput
	slack    []activities.SlackMessage
	queues   map[string]string // activity → task queue it ran on
	check    activities.S3ObjectCheck
	process  func(attempt int32) error
	attempts int32
	// checkErr fails the check.
	checkErr error
	// moveErr, when set, fails the moves it returns an error for.
	moveErr func(activities.MoveObjectInput) error
}

func newS3ObjEnv(t *testing.T, check activities.S3ObjectCheck) *s3ObjEnv {
	e := &s3ObjEnv{TestWorkflowEnvironment: newTestEnv(t), check: check, queues: map[string]string{}}
	// The machine is shared: a slow first workflow task is no deadlock.
	e.SetWorkerOptions(summaryChecked(t, worker.Options{DeadlockDetectionTimeout: 10 * time.Second}))
	(&activities.S3Object{}).Register(e)
	(&activities.Slack{}).Register(e)
	(&activities.Host{Name: "h1"}).Register(e)
	e.OnActivity(activities.CheckObjectName, mock.Anything, mock.Anything).Return(func(context.Context, activities.S3ObjectCheckInput) (activities.S3ObjectCheck, error) {
		e.record("check", "")
		return e.check, e.checkErr
	})
	run := func(ctx context.Context) (activities.JobOutput, error) {
		e.mu.Lock()
		e.attempts++
		n := e.attempts
		e.mu.Unlock()
		e.record("process", activity.GetInfo(ctx).TaskQueue)
		if e.process != nil {
			if err := e.process(n); err != nil {
				return activities.JobOutput{}, err
			}
		}
		return activities.JobOutput{Summary: "ok"}, nil
	}
	e.OnActivity(activities.ProcessObjectName, mock.Anything, mock.Anything).Return(func(ctx context.Context, _ activities.ProcessObjectInput) (activities.JobOutput, error) {
		return run(ctx)
	}).Maybe()
	e.OnActivity(activities.RunObjectCommandName, mock.Anything, mock.Anything).Return(func(ctx context.Context, in activities.RunObjectCommandInput) (activities.JobOutput, error) {
		if in.Path != "/tmp/vigil-s3obj-1" {
			return activities.JobOutput{}, temporal.NewNonRetryableApplicationError("wrong path "+in.Path, "Test", nil)
		}
		return run(ctx)
	}).Maybe()
	e.OnActivity(activities.DownloadObjectName, mock.Anything, mock.Anything).Return(func(ctx context.Context, _ activities.DownloadInput) (activities.DownloadResult, error) {
		e.record("download", activity.GetInfo(ctx).TaskQueue)
		return activities.DownloadResult{Path: "/tmp/vigil-s3obj-1", Bytes: 3}, nil
	}).Maybe()
	e.OnActivity(activities.RemoveDownloadName, mock.Anything, mock.Anything).Return(func(ctx context.Context, path string) error {
		e.record("remove", activity.GetInfo(ctx).TaskQueue)
		return nil
	}).Maybe()
	e.OnActivity(activities.MoveObjectName, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.MoveObjectInput) (activities.MoveObjectResult, error) {
		e.mu.Lock()
		e.moves = append(e.moves, in)
		e.mu.Unlock()
		e.record("move", "")
		if e.moveErr != nil {
			if err := e.moveErr(in); err != nil {
				return activities.MoveObjectResult{}, err
			}
		}
		return activities.MoveObjectResult{Location: "s3://" + in.DestBucket + "/" + in.DestKey}, nil
	}).Maybe()
	e.OnActivity(activities.SlackNotifyName, mock.Anything, mock.Anything).Return(func(_ context.Context, m activities.SlackMessage) error {
		e.mu.Lock()
		e.slack = append(e.slack, m)
		e.mu.Unlock()
		return nil
	}).Maybe()
	return e
}

func (e *s3ObjEnv) record(call, queue string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, call)
	if queue != "" {
		e.queues[call] = queue
	}
}

func (e *s3ObjEnv) count(call string) int {
	n := 0
	for _, c := range e.calls {
		if c == call {
			n++
		}
	}
	return n
}

func testPipeline(kind string) flowdata.Pipeline {
	p := flowdata.Pipeline{Name: "reports", Processor: flowdata.Processor{Kind: kind},
		Retry: &flowdata.JobRetry{InitialInterval: flowdata.Duration(5 * time.Second), BackoffCoefficient: 2, MaximumAttempts: 4}}
	switch kind {
	case flowdata.ProcessorHTTP:
		p.Processor.HTTP = &flowdata.HTTPProcessor{URL: "http://importer/ingest"}
	case flowdata.ProcessorExec:
		p.Processor.Exec = &flowdata.ExecJob{Command: "import", Args: []string{"{{.Path}}"}}
	}
	return p
}

var testObject = flowdata.S3ObjectRef{Bucket: "inbox", Key: "incoming/a b+c.csv", ETag: "abc"}

func runS3Object(t *testing.T, e *s3ObjEnv, p flowdata.Pipeline) (S3ObjectResult, error) {
	t.Helper()
	e.ExecuteWorkflow(S3ObjectWorkflow, flowdata.S3ObjectInput{Object: testObject, Pipeline: p, Source: flowdata.SourceEvent})
	if !e.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	var res S3ObjectResult
	err := e.GetWorkflowResult(&res)
	return res, err
}

func TestS3ObjectRetriedThenSucceeds(t *testing.T) {
	e := newS3ObjEnv(t, activities.S3ObjectCheck{State: activities.ObjectPresent, ETag: "abc", Size: 3})
	e.process = func(n int32) error {
		if n < 3 {
			return temporal.NewApplicationError("HTTP 503", activities.ErrTypeUnexpectedStatus)
		}
		return nil
	}
	res, err := runS3Object(t, e, testPipeline(flowdata.ProcessorHTTP))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != OutcomeProcessed || res.Location != "s3://inbox/bak/incoming/a b+c.csv" {
		t.Fatalf("result %+v", res)
	}
	if e.count("process") != 3 || len(e.moves) != 1 || e.moves[0].Error != "" {
		t.Fatalf("calls %v moves %+v", e.calls, e.moves)
	}
	if len(e.slack) != 0 {
		t.Fatalf("unexpected Slack alert %+v", e.slack)
	}
}

func TestS3ObjectDeadLetter(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		wantCalls int
	}{
		{"permanent", temporal.NewNonRetryableApplicationError("HTTP 422: bad csv", activities.ErrTypeProcessorRejected, nil), 1},
		{"retries exhausted", temporal.NewApplicationError("exit 1: boom", activities.ErrTypeExitStatus), 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newS3ObjEnv(t, activities.S3ObjectCheck{State: activities.ObjectPresent, ETag: "abc", Size: 3})
			e.process = func(int32) error { return tc.err }
			p := testPipeline(flowdata.ProcessorHTTP)
			p.DeadLetter = &flowdata.S3Location{Bucket: "quarantine", Prefix: "bad/"}
			p.NotifyOnFailure = "TEAM_SLACK"
			_, err := runS3Object(t, e, p)
			var appErr *temporal.ApplicationError
			if !errors.As(err, &appErr) || appErr.Type() != "DeadLettered" {
				t.Fatalf("want a DeadLettered failure, got %v", err)
			}
			if e.count("process") != tc.wantCalls {
				t.Fatalf("%d processor calls, want %d", e.count("process"), tc.wantCalls)
			}
			if len(e.moves) != 1 || e.moves[0].DestBucket != "quarantine" || e.moves[0].DestKey != "bad/incoming/a b+c.csv" ||
				!strings.Contains(e.moves[0].Error, errorText(tc.err)) {
				t.Fatalf("moves %+v", e.moves)
			}
			if len(e.slack) != 1 || e.slack[0].WebhookEnv != "TEAM_SLACK" ||
				!strings.Contains(e.slack[0].Title, "incoming/a b+c.csv") {
				t.Fatalf("slack %+v", e.slack)
			}
		})
	}
}

func TestS3ObjectCompletesWithoutProcessing(t *testing.T) {
	for _, tc := range []struct {
		state, want string
	}{
		{activities.ObjectProcessed, OutcomeAlreadyProcessed},
		{activities.ObjectSuperseded, OutcomeSuperseded},
		{activities.ObjectDeadLettered, OutcomeAlreadyDeadLetter},
		{activities.ObjectGone, OutcomeGone},
	} {
		t.Run(tc.state, func(t *testing.T) {
			e := newS3ObjEnv(t, activities.S3ObjectCheck{State: tc.state, Location: "s3://inbox/bak/incoming/a b+c.csv"})
			res, err := runS3Object(t, e, testPipeline(flowdata.ProcessorExec))
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tc.want || e.count("process") != 0 || e.count("download") != 0 || len(e.moves) != 0 {
				t.Fatalf("result %+v calls %v", res, e.calls)
			}
		})
	}
}

func TestS3ObjectSupersededWhileProcessing(t *testing.T) {
	e := newS3ObjEnv(t, activities.S3ObjectCheck{State: activities.ObjectPresent, ETag: "abc"})
	e.process = func(int32) error {
		return temporal.NewNonRetryableApplicationError("replaced", activities.ErrTypeObjectChanged, nil)
	}
	res, err := runS3Object(t, e, testPipeline(flowdata.ProcessorHTTP))
	if err != nil || res.Outcome != OutcomeSuperseded || len(e.moves) != 0 || len(e.slack) != 0 {
		t.Fatalf("res %+v err %v moves %+v", res, err, e.moves)
	}
}

func TestS3ObjectExecRunsOnOneHost(t *testing.T) {
	e := newS3ObjEnv(t, activities.S3ObjectCheck{State: activities.ObjectPresent, ETag: "abc"})
	e.process = func(n int32) error {
		if n == 1 {
			return temporal.NewApplicationError("exit 1", activities.ErrTypeExitStatus)
		}
		return nil
	}
	res, err := runS3Object(t, e, testPipeline(flowdata.ProcessorExec))
	if err != nil || res.Outcome != OutcomeProcessed {
		t.Fatalf("res %+v err %v", res, err)
	}
	want := HostTaskQueue("default-test-taskqueue", "h1")
	for _, c := range []string{"download", "process", "remove"} {
		if e.queues[c] != want {
			t.Errorf("%s ran on %q, want %q", c, e.queues[c], want)
		}
	}
	if e.count("download") != 1 || e.count("process") != 2 || e.count("remove") != 1 {
		t.Fatalf("calls %v", e.calls)
	}
}

func TestS3ObjectNoneArchivesOnly(t *testing.T) {
	e := newS3ObjEnv(t, activities.S3ObjectCheck{State: activities.ObjectPresent, ETag: "abc"})
	p := testPipeline(flowdata.ProcessorNone)
	p.Archive = &flowdata.S3Location{Bucket: "archive", Prefix: "done/"}
	res, err := runS3Object(t, e, p)
	if err != nil || res.Location != "s3://archive/done/incoming/a b+c.csv" || e.count("process") != 0 {
		t.Fatalf("res %+v err %v calls %v", res, err, e.calls)
	}
}

// sweepEnv mocks SweepPages with a listing of pages of fixed counts.
func sweepEnv(t *testing.T, pages []flowdata.S3SweepCounts, firstToken string) (*testsuite.TestWorkflowEnvironment, *[]string, *[]activities.SlackMessage) {
	env := newTestEnv(t)
	(&activities.S3Object{}).Register(env)
	(&activities.Slack{}).Register(env)
	var tokens []string
	var slack []activities.SlackMessage
	env.OnActivity(activities.SweepPagesName, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SweepInput) (activities.SweepProgress, error) {
		tokens = append(tokens, in.Token)
		i := 0
		if in.Token != "" {
			i = int(in.Token[len(in.Token)-1] - '0')
		}
		p := activities.SweepProgress{Counts: pages[i], StartedKeys: []string{"k" + string(rune('0'+i))}}
		if i+1 < len(pages) {
			p.Token = "t:" + string(rune('0'+i+1))
		} else {
			p.Done = true
		}
		return p, nil
	})
	env.OnActivity(activities.SlackNotifyName, mock.Anything, mock.Anything).Return(func(_ context.Context, m activities.SlackMessage) error {
		slack = append(slack, m)
		return nil
	}).Maybe()
	return env, &tokens, &slack
}

func TestS3SweepContinueAsNewKeepsCounts(t *testing.T) {
	pages := []flowdata.S3SweepCounts{
		{Listed: 10, Found: 4, Started: 1, AlreadyRunning: 1, AlreadyDone: 2, Pages: 1},
		{Listed: 10, Found: 3, Started: 2, AlreadyDone: 1, Pages: 1},
		{Listed: 5, Found: 5, Started: 0, AlreadyRunning: 5, Pages: 1},
	}
	in := S3SweepInput{Bucket: "inbox", Prefix: "incoming/", Pipeline: testPipeline(flowdata.ProcessorNone), ActivitiesPerRun: 2}
	env, tokens, _ := sweepEnv(t, pages, "")
	env.ExecuteWorkflow(S3SweepWorkflow, in)
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("want continue-as-new after 2 activities, got %v", err)
	}
	var next S3SweepInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if next.Token != "t:2" || next.Counts.Started != 3 || next.Counts.Found != 7 || next.Cutoff.IsZero() {
		t.Fatalf("carried over %+v", next)
	}
	env2, tokens2, slack := sweepEnv(t, pages, "t:2")
	env2.ExecuteWorkflow(S3SweepWorkflow, next)
	var res S3SweepResult
	if err := env2.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	want := flowdata.S3SweepCounts{Listed: 25, Found: 12, Started: 3, AlreadyRunning: 6, AlreadyDone: 3, Pages: 3}
	if res.S3SweepCounts != want || res.MissedEvents != 3 {
		t.Fatalf("result %+v, want %+v", res, want)
	}
	if len(*tokens) != 2 || len(*tokens2) != 1 || (*tokens2)[0] != "t:2" || !next.Cutoff.Equal(next.Cutoff) {
		t.Fatalf("tokens %v %v", *tokens, *tokens2)
	}
	if len(*slack) != 1 || !strings.Contains((*slack)[0].Title, "missed 3 event") {
		t.Fatalf("slack %+v", *slack)
	}
	var st Status
	v, err := env2.QueryWorkflow(StatusQuery)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Get(&st); err != nil || st.Details["missedEvents"] != "3" || st.Phase != PhaseDone {
		t.Fatalf("status %+v %v", st, err)
	}
}

func TestS3SweepNoMissedEventsNoSlack(t *testing.T) {
	env, _, slack := sweepEnv(t, []flowdata.S3SweepCounts{{Listed: 3, Found: 1, AlreadyDone: 1, Pages: 1}}, "")
	env.ExecuteWorkflow(S3SweepWorkflow, S3SweepInput{Bucket: "inbox", Prefix: "incoming/", Pipeline: testPipeline(flowdata.ProcessorNone)})
	var res S3SweepResult
	if err := env.GetWorkflowResult(&res); err != nil || res.MissedEvents != 0 || len(*slack) != 0 {
		t.Fatalf("res %+v err %v slack %v", res, err, *slack)
	}
}

func TestS3BindingsKeepsOnePerPrefix(t *testing.T) {
	env := newTestEnv(t)
	p := testPipeline(flowdata.ProcessorNone)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(BindSignal, flowdata.S3Binding{Bucket: "b", Prefix: "incoming/", Pipeline: p})
		env.SignalWorkflow(BindSignal, flowdata.S3Binding{Bucket: "b", Prefix: "incoming/x/", Pipeline: p})
		p2 := p
		p2.Name = "v2"
		env.SignalWorkflow(BindSignal, flowdata.S3Binding{Bucket: "b", Prefix: "incoming/", Pipeline: p2})
		env.SignalWorkflow(UnbindSignal, S3Unbind{Bucket: "b", Prefix: "incoming/x/"})
	}, time.Second)
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(BindingsQuery)
		if err != nil {
			t.Error(err)
			return
		}
		var got []flowdata.S3Binding
		if err := v.Get(&got); err != nil || len(got) != 1 || got[0].Pipeline.Name != "v2" {
			t.Errorf("bindings %+v %v", got, err)
		}
		b, ok := FindBinding(got, "b", "incoming/x/y")
		if !ok || b.Prefix != "incoming/" {
			t.Errorf("FindBinding %+v %v", b, ok)
		}
		if _, ok := FindBinding(got, "b", "other/y"); ok {
			t.Error("FindBinding matched another prefix")
		}
		env.CancelWorkflow()
	}, time.Minute)
	env.ExecuteWorkflow(S3BindingsWorkflow, []flowdata.S3Binding(nil))
	if !env.IsWorkflowCompleted() {
		t.Fatal("not completed")
	}
}
