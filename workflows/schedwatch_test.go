package workflows

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"

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
