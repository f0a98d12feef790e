package workflows

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// newTestEnv is a test workflow environment whose worker fails t when a
// flow schedules an activity, local activity or child workflow without a
// summary (see summaryChecked). Every workflow unit test builds its
// environment through it, so a new ExecuteActivity without a summary fails
// the tests of its flow.
func newTestEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(summaryChecked(t, worker.Options{}))
	return env
}

// summaryChecked is opts with the summary check added to its interceptors;
// use it for every SetWorkerOptions on a newTestEnv environment (worker
// options replace the previous ones, interceptors included).
func summaryChecked(t testing.TB, opts worker.Options) worker.Options {
	opts.Interceptors = append(opts.Interceptors, &summaryCheck{errorf: t.Errorf})
	return opts
}

// summaryCheck reports through errorf each activity, local activity or
// child workflow scheduled without a summary: the Web UI's timeline would
// show a bare activity type there.
type summaryCheck struct {
	interceptor.WorkerInterceptorBase
	errorf func(format string, args ...any)
}

func (c *summaryCheck) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &summaryInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, errorf: c.errorf}
}

type summaryInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	errorf func(format string, args ...any)
}

func (i *summaryInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	return i.Next.Init(&summaryOutbound{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: outbound}, errorf: i.errorf})
}

type summaryOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	errorf func(format string, args ...any)
}

func (o *summaryOutbound) check(ctx workflow.Context, what, name, summary string) {
	if strings.TrimSpace(summary) == "" {
		o.errorf("workflow %s schedules %s %s without a summary", workflow.GetInfo(ctx).WorkflowType.Name, what, name)
	}
}

func (o *summaryOutbound) ExecuteActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	o.check(ctx, "activity", activityType, workflow.GetActivityOptions(ctx).Summary)
	return o.Next.ExecuteActivity(ctx, activityType, args...)
}

func (o *summaryOutbound) ExecuteLocalActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	o.check(ctx, "local activity", activityType, workflow.GetLocalActivityOptions(ctx).Summary)
	return o.Next.ExecuteLocalActivity(ctx, activityType, args...)
}

func (o *summaryOutbound) ExecuteChildWorkflow(ctx workflow.Context, childWorkflowType string, args ...any) workflow.ChildWorkflowFuture {
	o.check(ctx, "child workflow", childWorkflowType, workflow.GetChildWorkflowOptions(ctx).StaticSummary)
	return o.Next.ExecuteChildWorkflow(ctx, childWorkflowType, args...)
}

// TestSummaryCheckCatchesAMissingSummary: the check that every flow's tests
// run reports an activity scheduled without a summary, and only that one.
func TestSummaryCheckCatchesAMissingSummary(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	var missing []string
	record := func(format string, args ...any) { missing = append(missing, fmt.Sprintf(format, args...)) }
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{&summaryCheck{errorf: record}}})
	env.RegisterActivityWithOptions(func(context.Context) error { return nil }, activity.RegisterOptions{Name: "Step"})
	env.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
		ctx = workflow.WithActivityOptions(ctx, ShortCallOptions())
		if err := workflow.ExecuteActivity(Summarized(ctx, "a step"), "Step").Get(ctx, nil); err != nil {
			return err
		}
		return workflow.ExecuteActivity(ctx, "Step").Get(ctx, nil)
	}, workflow.RegisterOptions{Name: "unsummarized"})
	env.ExecuteWorkflow("unsummarized")
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if len(missing) != 1 || !strings.Contains(missing[0], "activity Step without a summary") {
		t.Errorf("reported %q, want the one activity without a summary", missing)
	}
}

// TestRedactSource: summaries and records name an http(s) location without
// its credentials (user info, query, fragment); other locations are kept.
func TestRedactSource(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:pw@db.example/dump?sig=abc#x": "https://db.example/dump",
		"https://db.example/a@b?token=1":            "https://db.example/a@b",
		"http://db.example/dump":                    "http://db.example/dump",
		"s3://bucket/key@1":                         "s3://bucket/key@1",
		"file:///srv/x.bin":                         "file:///srv/x.bin",
	} {
		if got := redactSource(in); got != want {
			t.Errorf("redactSource(%q) = %q, want %q", in, got, want)
		}
	}
}
