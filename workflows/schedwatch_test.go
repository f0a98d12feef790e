package workflows

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
)

func TestScheduleWatchAlertsOnSkipMissAndFailure(t *testing.T) {
	env := newBatchEnv(t)
	(&activities.Temporal{}).Register(env)
	var ta *activities.Temporal
	var slack *activities.Slack
	start := env.Now()
	checks := []activities.ScheduleCheck{
		{Exists: true, SkippedOverlap: 4, MissedCatchup: 1}, // history before the watcher: not reported
		{Exists: true, SkippedOverlap: 4, MissedCatchup: 1},
		{Exists: true, SkippedOverlap: 6, MissedCatchup: 1, RecentRuns: []activities.ScheduledRun{
			{WorkflowID: "batch/x-1", Status: "Failed", Failure: "HTTP 500", ActualTime: start.Add(90 * time.Second)}}},
		{Exists: true, SkippedOverlap: 6, MissedCatchup: 2, RecentRuns: []activities.ScheduledRun{
			{WorkflowID: "batch/x-1", Status: "Failed", Failure: "HTTP 500", ActualTime: start.Add(90 * time.Second)}}},
		{Exists: false},
	}
	calls := 0
	env.OnActivity(ta.CheckSchedule, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.ScheduleCheckInput) (activities.ScheduleCheck, error) {
			c := checks[min(calls, len(checks)-1)]
			calls++
			return c, nil
		})
	var alerts []string
	env.OnActivity(slack.Notify, mock.Anything, mock.Anything).Return(func(_ context.Context, m activities.SlackMessage) error {
		alerts = append(alerts, m.Color+": "+m.Text)
		return nil
	})
	env.ExecuteWorkflow(ScheduleWatchWorkflow, ScheduleWatchInput{ScheduleID: "x", AlertFailures: true})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"warning: vigil: schedule x skipped 2 run(s)",
		"danger: vigil: a run of schedule x ended Failed",
		"warning: vigil: schedule x missed 1 run(s)",
	}
	if len(alerts) != len(want) {
		t.Fatalf("alerts = %q", alerts)
	}
	for i, w := range want {
		if !strings.HasPrefix(alerts[i], w) {
			t.Errorf("alert %d = %q, want prefix %q", i, alerts[i], w)
		}
	}
}

// A failed scheduled sweep posts exactly one alert. Its own
// (FailureAlerts': S3Sweep is an alerted flow) and, before
// vigil-schedwatch-self-alert, a second one from its schedule's watcher,
// whose stored input (AlertFailures, from the catalog's AlertsOnFailure
// false) still asks for failed runs. Seen failing with 2 alerts. A
// terminated run, whose code never ran to alert, is still the watcher's.
func TestScheduledSweepFailureAlertsOnce(t *testing.T) {
	a := &alertEnv{}
	record := func(_ context.Context, m activities.SlackMessage) error {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.slack = append(a.slack, m)
		return nil
	}
	// The sweep run fails with the production interceptor.
	sweep := newTestEnv(t)
	sweep.SetWorkerOptions(withFailureAlerts(t))
	sweep.RegisterWorkflowWithOptions(fakeFlow, workflow.RegisterOptions{Name: S3SweepName})
	sweep.RegisterActivityWithOptions(func(context.Context) error {
		return temporal.NewNonRetryableApplicationError("ListObjectsV2 inbox: AccessDenied", activities.ErrTypeAccessDenied, nil)
	}, activity.RegisterOptions{Name: boomName})
	(&activities.Slack{}).Register(sweep)
	sweep.OnActivity(activities.SlackNotifyName, mock.Anything, mock.Anything).Return(record)
	sweep.ExecuteWorkflow(S3SweepName, fakeFlowInput{})
	if sweep.GetWorkflowError() == nil {
		t.Fatal("the sweep did not fail")
	}
	// Its watcher then sees it failed, and another run terminated.
	watch := newBatchEnv(t)
	(&activities.Temporal{}).Register(watch)
	var ta *activities.Temporal
	start := watch.Now()
	runs := []activities.ScheduledRun{
		{WorkflowID: "sweep/a", WorkflowType: S3SweepName, Status: "Failed", Failure: "AccessDenied", ActualTime: start.Add(30 * time.Second)},
		{WorkflowID: "sweep/b", WorkflowType: S3SweepName, Status: "Terminated", ActualTime: start.Add(40 * time.Second)},
	}
	checks := []activities.ScheduleCheck{{Exists: true}, {Exists: true, RecentRuns: runs}, {Exists: false}}
	calls := 0
	watch.OnActivity(ta.CheckSchedule, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.ScheduleCheckInput) (activities.ScheduleCheck, error) {
			c := checks[min(calls, len(checks)-1)]
			calls++
			return c, nil
		})
	watch.OnActivity(activities.SlackNotifyName, mock.Anything, mock.Anything).Return(record)
	watch.ExecuteWorkflow(ScheduleWatchWorkflow, ScheduleWatchInput{ScheduleID: "sweep", AlertFailures: true})
	if err := watch.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	failed, terminated := 0, 0
	for _, m := range a.slack {
		switch {
		case m.Color != activities.SlackDanger:
		case strings.Contains(m.Text, "Terminated"):
			terminated++
		default:
			failed++
		}
	}
	if failed != 1 || terminated != 1 {
		t.Fatalf("%d alerts for the failed sweep (want 1), %d for the terminated one (want 1): %+v", failed, terminated, a.slack)
	}
}
