package main

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/cli"
)

// scheduleError makes a schedule RPC's failure one line: a missing
// schedule is "not found" (exit 3) named by its ID, never by the server's
// internal scheduler workflow ID; other failures keep their cause for the
// exit-code mapping.
func (a *app) scheduleError(verb, id string, err error) error {
	if cli.IsNotFound(err) {
		return cli.NotFound(fmt.Errorf("schedule %q not found in namespace %q", id, a.namespace))
	}
	return fmt.Errorf("%s schedule %s: %w", verb, id, err)
}

// triggerWait bounds how long trigger looks for the run it started.
const triggerWait = 15 * time.Second

// triggeredRun is what `schedule trigger` reports.
type triggeredRun struct {
	Schedule string `json:"schedule"`
	Action   string `json:"action"`
	// WorkflowID and RunID name the run the trigger started (empty when
	// it was skipped by the overlap policy or not seen in time).
	WorkflowID string `json:"workflowId,omitempty"`
	RunID      string `json:"runId,omitempty"`
	// Skipped is true when the overlap policy skipped the run.
	Skipped bool `json:"skipped,omitempty"`
}

// trigger starts a run of schedule id now and finds it: the schedule's
// action count grows (its newest recent action is the run) or its
// overlap-skip count does.
func (a *app) trigger(ctx context.Context, c client.Client, id string, opts client.ScheduleTriggerOptions) (triggeredRun, error) {
	h := c.ScheduleClient().GetHandle(ctx, id)
	before, err := h.Describe(ctx)
	if err != nil {
		return triggeredRun{}, a.scheduleError("trigger", id, err)
	}
	if err := h.Trigger(ctx, opts); err != nil {
		return triggeredRun{}, a.scheduleError("trigger", id, err)
	}
	out := triggeredRun{Schedule: id, Action: "triggered"}
	deadline := time.Now().Add(triggerWait)
	for time.Now().Before(deadline) {
		d, err := h.Describe(ctx)
		if err != nil {
			return out, a.scheduleError("trigger", id, err)
		}
		if d.Info.NumActions > before.Info.NumActions && len(d.Info.RecentActions) > 0 {
			r := d.Info.RecentActions[len(d.Info.RecentActions)-1].StartWorkflowResult
			if r != nil {
				out.WorkflowID, out.RunID = r.WorkflowID, r.FirstExecutionRunID
			}
			return out, nil
		}
		if d.Info.NumActionsSkippedOverlap > before.Info.NumActionsSkippedOverlap {
			out.Action, out.Skipped = "skipped", true
			return out, nil
		}
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return out, nil
}

// triggerText is the text line of a trigger's report.
func triggerText(r triggeredRun) string {
	switch {
	case r.Skipped:
		return fmt.Sprintf("schedule %s triggered; the run was skipped (a run is under way and the overlap policy skips)", r.Schedule)
	case r.RunID == "":
		return fmt.Sprintf("schedule %s triggered (its run was not seen within %s: see 'starter schedule describe %s')", r.Schedule, triggerWait, r.Schedule)
	}
	return fmt.Sprintf("schedule %s triggered: started %s (run %s)", r.Schedule, r.WorkflowID, r.RunID)
}
