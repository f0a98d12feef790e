package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"

	"github.com/vigilops/vigil/internal/cli"
	"github.com/vigilops/vigil/workflows"
)

// statusReport is what `starter status` shows (and prints with -o json).
type statusReport struct {
	WorkflowID string     `json:"workflowId"`
	RunID      string     `json:"runId"`
	Type       string     `json:"type"`
	TaskQueue  string     `json:"taskQueue"`
	Flow       string     `json:"flow,omitempty"`
	Target     string     `json:"target,omitempty"`
	Status     string     `json:"status"`
	StartTime  time.Time  `json:"startTime"`
	CloseTime  *time.Time `json:"closeTime,omitempty"`
	// Progress is the answer to the status query, when there was one.
	Progress *workflows.Status `json:"progress,omitempty"`
	// QueryError says why there is no Progress.
	QueryError string `json:"queryError,omitempty"`
	// Result is the result of a completed run.
	Result any `json:"result,omitempty"`
	// Reason explains a run that failed, was canceled, terminated or timed out.
	Reason string `json:"reason,omitempty"`
	// NextRunID is the run a continued-as-new run handed over to.
	NextRunID string `json:"nextRunId,omitempty"`
	// Activities are the pending activities that are retrying.
	Activities []pendingActivity `json:"pendingActivities,omitempty"`
}

// pendingActivity is a retrying activity in a statusReport.
type pendingActivity struct {
	Type        string `json:"type"`
	Attempt     int32  `json:"attempt"`
	LastFailure string `json:"lastFailure,omitempty"`
}

func (a *app) statusCommand() *cobra.Command {
	var runID string
	cmd := &cobra.Command{
		Use:   "status ID",
		Short: "Show a workflow's progress, or how it ended",
		Long: `Show a workflow's state and, by asking it the "` + workflows.StatusQuery + `" query, its phase, time in
phase, bytes done/total, attempt, last poll, last error and details. For a closed
workflow it also shows the result or the failure. Answering the query needs a worker; when
none answers, the server-side information is shown with the reason.`,
		Example: `  starter status glacier/my-vault/inventory
  starter status s3restore/my-bucket/logs/2024.tar -o json
  starter status backup/cache/2025-01-01T00:00:00Z --run-id 0195d1c6-...`,
		Args: exactlyOneID,
		RunE: func(cmd *cobra.Command, args []string) error { return a.runStatus(cmd.Context(), args[0], runID) },
	}
	cmd.Flags().StringVar(&runID, "run-id", "", "a specific run (default: the latest)")
	return cmd
}

func (a *app) runStatus(ctx context.Context, id, runID string) error {
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()

	desc, err := c.DescribeWorkflowExecution(ctx, id, runID)
	if err != nil {
		return a.describeError(id, err)
	}
	info := desc.GetWorkflowExecutionInfo()
	rep := statusReport{
		WorkflowID: id,
		RunID:      info.GetExecution().GetRunId(),
		Type:       info.GetType().GetName(),
		TaskQueue:  info.GetTaskQueue(),
		Flow:       keyword(info.GetSearchAttributes(), workflows.SearchAttrFlow),
		Target:     keyword(info.GetSearchAttributes(), workflows.SearchAttrTarget),
		Status:     cli.StatusName(info.GetStatus()),
		StartTime:  info.GetStartTime().AsTime(),
	}
	if info.GetCloseTime() != nil {
		t := info.GetCloseTime().AsTime()
		rep.CloseTime = &t
	}
	for _, pa := range desc.GetPendingActivities() {
		if pa.GetAttempt() > 1 || pa.GetLastFailure() != nil {
			rep.Activities = append(rep.Activities, pendingActivity{
				Type:        pa.GetActivityType().GetName(),
				Attempt:     pa.GetAttempt(),
				LastFailure: failureText(pa),
			})
		}
	}

	if info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		o, err := awaitOutcome(ctx, c, id, rep.RunID, false)
		if err != nil {
			return fmt.Errorf("reading how workflow %q ended: %s", id, oneLine(err.Error()))
		}
		rep.Result, rep.Reason, rep.NextRunID = o.Result, o.Reason, o.NewRunID
	}

	st, qerr := queryStatus(ctx, c, id, rep.RunID, a.queryTimeout)
	if qerr != nil {
		if ctx.Err() != nil {
			return errors.New("interrupted")
		}
		rep.QueryError = qerr.Error()
	} else {
		st = a.mergeHeartbeats(st, desc.GetPendingActivities())
		rep.Progress = &st
		if rep.Flow == "" {
			rep.Flow = st.Flow
		}
		if rep.Target == "" {
			rep.Target = st.Target
		}
	}

	if a.format == cli.FormatJSON {
		return cli.WriteJSON(a.stdout, rep)
	}
	return cli.WriteFields(a.stdout, a.statusFields(rep))
}

// statusFields renders a statusReport as text.
func (a *app) statusFields(rep statusReport) []cli.Field {
	now := a.now()
	state := fmt.Sprintf("%s for %s (started %s)", rep.Status, cli.FormatDuration(now.Sub(rep.StartTime)), cli.FormatTime(rep.StartTime))
	if rep.CloseTime != nil {
		now = time.Time{} // a closed run's phase has no "for how long"
		state = fmt.Sprintf("%s at %s after %s", rep.Status, cli.FormatTime(*rep.CloseTime), cli.FormatDuration(rep.CloseTime.Sub(rep.StartTime)))
	}
	fields := []cli.Field{
		{Key: "Workflow", Value: rep.WorkflowID},
		{Key: "Run", Value: rep.RunID},
		{Key: "Type", Value: rep.Type},
		{Key: "Flow", Value: rep.Flow},
		{Key: "Target", Value: rep.Target},
		{Key: "State", Value: state},
		{Key: "Task queue", Value: rep.TaskQueue},
	}
	if rep.Progress != nil {
		fields = append(fields, cli.StatusFields(*rep.Progress, now)...)
	} else {
		fields = append(fields, cli.Field{Key: "Progress", Value: "unavailable: " + rep.QueryError})
	}
	for _, pa := range rep.Activities {
		v := fmt.Sprintf("%s attempt %d", pa.Type, pa.Attempt)
		if pa.LastFailure != "" {
			v += ", last failure: " + pa.LastFailure
		}
		fields = append(fields, cli.Field{Key: "Activity", Value: v})
	}
	if rep.Result != nil {
		fields = append(fields, cli.Field{Key: "Result", Value: renderValue(rep.Result)})
	}
	if rep.Status != "completed" {
		fields = append(fields, cli.Field{Key: "Reason", Value: rep.Reason})
	}
	fields = append(fields, cli.Field{Key: "Next run", Value: rep.NextRunID})
	return fields
}

// failureText renders a pending activity's last failure.
func failureText(pa *workflowpb.PendingActivityInfo) string {
	if pa.GetLastFailure() == nil {
		return ""
	}
	return cli.FailureMessage(pa.GetLastFailure())
}

// renderValue renders a decoded result: strings as they are, anything else
// as compact JSON.
func renderValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
