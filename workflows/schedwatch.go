package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
)

// ScheduleWatchFlow is the VigilFlow value of ScheduleWatchWorkflow runs.
const ScheduleWatchFlow = "schedule-watch"

// ScheduleWatchID is the workflow ID of the watcher of a schedule.
func ScheduleWatchID(scheduleID string) string { return "schedwatch/" + scheduleID }

// watchSelfAlertChange is the workflow.GetVersion change ID under which a
// watcher with AlertFailures skips the Failed runs of flows that post
// their own failure alert (alertedFlows, through FailureAlerts), which
// were alerted twice before (version 1). Terminated and timed-out runs
// are still alerted: no workflow code of theirs ran to say so.
const watchSelfAlertChange = "vigil-schedwatch-self-alert"

// watchTurnsPerRun bounds a watcher run's history; it then continues as new.
const watchTurnsPerRun = 500

// ScheduleWatchInput configures a schedule watcher.
type ScheduleWatchInput struct {
	ScheduleID string `json:"scheduleId"`
	// Interval between checks; 0 means 1 minute.
	Interval time.Duration `json:"interval"`
	// AlertFailures also alerts on failed runs (for flows that do not
	// alert on their own failures).
	AlertFailures bool `json:"alertFailures"`
	// WebhookEnv names the worker env var with the Slack webhook URL.
	WebhookEnv string `json:"webhookEnv,omitempty"`
	// Seen carries the counters across continue-as-new; nil on first start.
	Seen *WatchState `json:"seen,omitempty"`
}

// WatchState is what a watcher has already reported.
type WatchState struct {
	SkippedOverlap int       `json:"skippedOverlap"`
	MissedCatchup  int       `json:"missedCatchup"`
	Since          time.Time `json:"since"`
	Alerts         int       `json:"alerts"`
}

// ScheduleWatchWorkflow watches one schedule and posts a Slack alert when
// runs are skipped by the overlap policy, miss their catch-up window, or
// (with AlertFailures) fail. Temporal itself only counts these; this turns
// them into messages. It ends when the schedule is deleted.
func ScheduleWatchWorkflow(ctx workflow.Context, in ScheduleWatchInput) error {
	st := NewTracker(ctx, ScheduleWatchFlow, in.ScheduleID)
	markInternal(ctx, InternalSchedWatch)
	interval := in.Interval
	if interval <= 0 {
		interval = time.Minute
	}
	actx := Summarized(workflow.WithActivityOptions(ctx, ShortCallOptions()), "check schedule "+in.ScheduleID)
	seen := in.Seen
	for turn := 0; turn < watchTurnsPerRun; turn++ {
		st.SetPhase(PhaseRunning)
		var check activities.ScheduleCheck
		since := workflow.Now(ctx)
		if seen != nil {
			since = seen.Since
		}
		if err := workflow.ExecuteActivity(actx, activities.CheckScheduleName, activities.ScheduleCheckInput{ScheduleID: in.ScheduleID, Since: since}).Get(ctx, &check); err != nil {
			return err
		}
		if !check.Exists {
			st.SetPhase(PhaseDone)
			st.Update(func(s *Status) { s.Message = "schedule deleted" })
			return nil
		}
		if seen == nil {
			// First look: report only what happens from now on.
			seen = &WatchState{SkippedOverlap: check.SkippedOverlap, MissedCatchup: check.MissedCatchup, Since: since}
		}
		skipSelf := false
		if in.AlertFailures && slices.ContainsFunc(check.RecentRuns, func(r activities.ScheduledRun) bool {
			return alertsItself(r) && r.ActualTime.After(seen.Since)
		}) {
			// Asked only when such a run shows up, so runs recorded
			// before the change (whose checks never name a type) replay.
			skipSelf = workflow.GetVersion(ctx, watchSelfAlertChange, workflow.DefaultVersion, 1) >= 1
		}
		alerts := watchAlerts(in, seen, check, skipSelf)
		for _, m := range alerts {
			m.WebhookEnv = in.WebhookEnv
			notify(ctx, m)
		}
		seen.Alerts += len(alerts)
		// Replay-safe: the SDK's handler does not count during replay.
		workflow.GetMetricsHandler(ctx).Counter(ScheduleAlertsMetric).Inc(int64(len(alerts)))
		seen.SkippedOverlap, seen.MissedCatchup = check.SkippedOverlap, check.MissedCatchup
		for _, r := range check.RecentRuns {
			if r.Status != "Running" && r.ActualTime.After(seen.Since) {
				seen.Since = r.ActualTime
			}
		}
		st.SetPhase(PhaseWaiting)
		st.Update(func(s *Status) {
			s.LastPoll = fmt.Sprintf("%d actions, %d skipped, %d missed, paused=%v", check.Actions, check.SkippedOverlap, check.MissedCatchup, check.Paused)
			s.Details = map[string]string{"alerts": fmt.Sprint(seen.Alerts)}
			s.Waiting = &WaitInfo{For: "the next check of schedule " + in.ScheduleID, Next: workflow.Now(ctx).Add(interval), NextIs: "check"}
		})
		if err := workflow.Sleep(ctx, interval); err != nil {
			return err
		}
	}
	in.Seen = seen
	return workflow.NewContinueAsNewError(ctx, ScheduleWatchName, in)
}

// alertsItself tells a failed run whose flow posted its own alert.
func alertsItself(r activities.ScheduledRun) bool {
	return r.Status == "Failed" && PostsFailureAlert(r.WorkflowType)
}

// watchAlerts compares a check with what was already reported; skipSelf
// leaves out the failed runs that alerted themselves.
func watchAlerts(in ScheduleWatchInput, seen *WatchState, c activities.ScheduleCheck, skipSelf bool) []activities.SlackMessage {
	var out []activities.SlackMessage
	hint := "starter schedule describe " + in.ScheduleID
	if n := c.SkippedOverlap - seen.SkippedOverlap; n > 0 {
		out = append(out, activities.SlackMessage{
			Text:   fmt.Sprintf("vigil: schedule %s skipped %d run(s): the previous run was still going (overlap policy)", in.ScheduleID, n),
			Color:  activities.SlackWarning,
			Title:  fmt.Sprintf("Schedule %s skipped %d run(s)", in.ScheduleID, n),
			Fields: []activities.SlackField{{Title: "Reason", Value: "overlap policy: a run was still in progress"}, {Title: "Skipped in total", Value: fmt.Sprint(c.SkippedOverlap), Short: true}},
			Footer: hint,
		})
	}
	if n := c.MissedCatchup - seen.MissedCatchup; n > 0 {
		out = append(out, activities.SlackMessage{
			Text:   fmt.Sprintf("vigil: schedule %s missed %d run(s) outside its catch-up window", in.ScheduleID, n),
			Color:  activities.SlackWarning,
			Title:  fmt.Sprintf("Schedule %s missed %d run(s)", in.ScheduleID, n),
			Fields: []activities.SlackField{{Title: "Reason", Value: "the run could not start within the catch-up window (server or workers down?)"}},
			Footer: hint,
		})
	}
	if in.AlertFailures {
		for _, r := range c.RecentRuns {
			if r.Status == "Running" || r.Status == "Completed" || !r.ActualTime.After(seen.Since) || (skipSelf && alertsItself(r)) {
				continue
			}
			out = append(out, activities.SlackMessage{
				Text:  fmt.Sprintf("vigil: a run of schedule %s ended %s", in.ScheduleID, r.Status),
				Color: activities.SlackDanger,
				Title: fmt.Sprintf("Schedule %s: run %s", in.ScheduleID, r.Status),
				Fields: []activities.SlackField{
					{Title: "Scheduled time", Value: r.ScheduledTime.UTC().Format(time.RFC3339), Short: true},
					{Title: "Workflow", Value: r.WorkflowID, Short: true},
					{Title: "Error", Value: r.Failure},
				},
				Footer: "starter status " + r.WorkflowID,
			})
		}
	}
	return out
}

// ScheduleAlertsMetric counts the alerts schedule watchers post, through
// the SDK's metrics handler (exported as vigil_schedule_alerts_total on
// the worker's --metrics-addr).
const ScheduleAlertsMetric = "vigil_schedule_alerts"
