package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/cli"
	"github.com/vigilops/vigil/workflows"
)

// The generic verbs that work on any vigil workflow: list, status, wait,
// cancel.

// workflowCommands returns the generic workflow verbs.
func (a *app) workflowCommands() []*cobra.Command {
	return []*cobra.Command{a.listCommand(), a.statusCommand(), a.waitCommand(), a.cancelCommand()}
}

// ---- list ----

// maxListLimit caps --limit.
const maxListLimit = 1000

// listOptions are the flags of `starter list`.
type listOptions struct {
	flow   string
	target string
	status string
	limit  int
}

// listItem is one workflow in `starter list -o json`.
type listItem struct {
	WorkflowID string     `json:"workflowId"`
	RunID      string     `json:"runId"`
	Type       string     `json:"type"`
	Flow       string     `json:"flow,omitempty"`
	Target     string     `json:"target,omitempty"`
	Status     string     `json:"status"`
	StartTime  time.Time  `json:"startTime"`
	CloseTime  *time.Time `json:"closeTime,omitempty"`
}

func (a *app) listCommand() *cobra.Command {
	var o listOptions
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List vigil workflows, newest first",
		Long: `List vigil workflows (those with the ` + workflows.SearchAttrFlow + ` search attribute), newest first,
filtered by flow, target and status. Visibility is eventually consistent: a workflow
started a moment ago may take a second to appear.`,
		Example: `  starter list
  starter list --flow glacier --status running
  starter list --status failed --limit 5 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runList(cmd.Context(), o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.flow, "flow", "", "only this flow ("+workflows.SearchAttrFlow+")")
	f.StringVar(&o.target, "target", "", "only this target ("+workflows.SearchAttrTarget+")")
	f.StringVar(&o.status, "status", "", "only this status: "+strings.Join(cli.StatusNames(), "|"))
	f.IntVar(&o.limit, "limit", 20, fmt.Sprintf("at most this many workflows (1-%d)", maxListLimit))
	return cmd
}

// listQuery builds the visibility query for o; the error is a usage error.
func listQuery(o listOptions) (string, error) {
	conds := []string{}
	if o.flow != "" {
		if err := checkKeyword("--flow", o.flow); err != nil {
			return "", err
		}
		conds = append(conds, fmt.Sprintf("%s = '%s'", workflows.SearchAttrFlow, o.flow))
	} else {
		conds = append(conds, workflows.SearchAttrFlow+" IS NOT NULL")
	}
	if o.target != "" {
		if err := checkKeyword("--target", o.target); err != nil {
			return "", err
		}
		conds = append(conds, fmt.Sprintf("%s = '%s'", workflows.SearchAttrTarget, o.target))
	}
	if o.status != "" {
		st, err := cli.ParseStatus(o.status)
		if err != nil {
			return "", err
		}
		conds = append(conds, fmt.Sprintf("ExecutionStatus = '%s'", st.String()))
	}
	if o.limit < 1 || o.limit > maxListLimit {
		return "", cli.Usagef("--limit must be between 1 and %d (got %d)", maxListLimit, o.limit)
	}
	return strings.Join(conds, " AND "), nil
}

// checkKeyword rejects values that cannot be put in a visibility query
// literal safely.
func checkKeyword(flag, v string) error {
	if strings.ContainsAny(v, "'\"\\`") || strings.ContainsFunc(v, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return cli.Usagef("%s must not contain quotes, backslashes or control characters (got %q)", flag, v)
	}
	return nil
}

func (a *app) runList(ctx context.Context, o listOptions) error {
	query, err := listQuery(o)
	if err != nil {
		return err
	}
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()

	var items []listItem
	var token []byte
	for len(items) < o.limit {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace:     a.namespace,
			PageSize:      int32(o.limit - len(items)),
			NextPageToken: token,
			Query:         query,
		})
		if err != nil {
			return fmt.Errorf("listing workflows: %s", oneLine(err.Error()))
		}
		for _, info := range resp.GetExecutions() {
			if len(items) < o.limit {
				items = append(items, toListItem(info))
			}
		}
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			break
		}
	}

	if a.format == cli.FormatJSON {
		if items == nil {
			items = []listItem{}
		}
		return cli.WriteJSON(a.stdout, items)
	}
	if len(items) == 0 {
		fmt.Fprintln(a.stdout, "No matching workflows.")
		return nil
	}
	rows := make([][]string, len(items))
	for i, it := range items {
		rows[i] = []string{it.WorkflowID, it.Flow, it.Target, it.Status, cli.FormatTime(it.StartTime)}
	}
	return cli.WriteTable(a.stdout, []string{"ID", "FLOW", "TARGET", "STATUS", "STARTED"}, rows)
}

func toListItem(info *workflowpb.WorkflowExecutionInfo) listItem {
	it := listItem{
		WorkflowID: info.GetExecution().GetWorkflowId(),
		RunID:      info.GetExecution().GetRunId(),
		Type:       info.GetType().GetName(),
		Flow:       keyword(info.GetSearchAttributes(), workflows.SearchAttrFlow),
		Target:     keyword(info.GetSearchAttributes(), workflows.SearchAttrTarget),
		Status:     cli.StatusName(info.GetStatus()),
		StartTime:  info.GetStartTime().AsTime(),
	}
	if info.GetCloseTime() != nil {
		t := info.GetCloseTime().AsTime()
		it.CloseTime = &t
	}
	return it
}

// ---- status ----

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

// ---- wait ----

// waitReport is what `starter wait -o json` prints when the workflow ends.
type waitReport struct {
	WorkflowID string    `json:"workflowId"`
	RunID      string    `json:"runId"`
	Status     string    `json:"status"`
	StartTime  time.Time `json:"startTime"`
	CloseTime  time.Time `json:"closeTime"`
	Result     any       `json:"result,omitempty"`
	Reason     string    `json:"reason,omitempty"`
}

func (a *app) waitCommand() *cobra.Command {
	var runID string
	cmd := &cobra.Command{
		Use:   "wait ID",
		Short: "Wait for a workflow to end, showing its progress",
		Long: `Wait until a workflow ends, showing a progress line (phase, time in phase, bytes and
percentage) refreshed every second on stderr. Runs that continue as new are followed.

On success the result is printed on stdout and the exit code is 0. If the workflow
fails, is canceled, terminated or times out, the reason is printed and the exit code
is 1. Ctrl-C stops waiting but leaves the workflow running (exit code 130).`,
		Example: `  starter wait glacier/my-vault/inventory
  starter wait s3restore/my-bucket/logs/2024.tar -o json > result.json`,
		Args: exactlyOneID,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer c.Close()
			return a.waitWorkflow(cmd.Context(), c, args[0], runID)
		},
	}
	cmd.Flags().StringVar(&runID, "run-id", "", "a specific run (default: the latest)")
	return cmd
}

// queryAnswer is one status query's result, delivered to the wait loop.
type queryAnswer struct {
	st  workflows.Status
	err error
}

// outcomeAnswer is the end of the awaited workflow, delivered to the wait
// loop.
type outcomeAnswer struct {
	o   outcome
	err error
}

// waitWorkflow waits for workflow id to end while redrawing a progress line
// on stderr, then reports the outcome (see the wait command). Verbs that
// start a workflow and offer --wait call it with their client.
func (a *app) waitWorkflow(ctx context.Context, c client.Client, id, runID string) error {
	desc, err := c.DescribeWorkflowExecution(ctx, id, runID)
	if err != nil {
		return a.describeError(id, err)
	}
	info := desc.GetWorkflowExecutionInfo()
	start := info.GetStartTime().AsTime()
	runID = info.GetExecution().GetRunId()

	// The outcome long-polls in the background; the loop below re-queries the
	// status every tick until it arrives or the user detaches.
	loopCtx, stopLoop := context.WithCancel(ctx)
	defer stopLoop()
	outcomes := make(chan outcomeAnswer, 1)
	go func() {
		o, err := awaitOutcome(loopCtx, c, id, runID, true)
		outcomes <- outcomeAnswer{o, err}
	}()

	live := cli.NewLiveLine(a.stderr, cli.IsTerminal(a.stderr))
	answers := make(chan queryAnswer, 1)
	inFlight := false
	ask := func() {
		inFlight = true
		go func() {
			// The latest run, so that a run continuing as new is followed.
			st, err := queryStatus(loopCtx, c, id, "", a.queryTimeout)
			answers <- queryAnswer{st, err}
		}()
	}
	var last *queryAnswer
	redraw := func() {
		if last == nil {
			return
		}
		now := a.now()
		if last.err != nil {
			line := fmt.Sprintf("waiting %s  (progress unavailable: %s)", cli.FormatDuration(now.Sub(start)), last.err)
			live.Update("err:"+last.err.Error(), line)
			return
		}
		key := cli.ProgressLine(last.st, -1, cli.DefaultBarWidth)
		live.Update(key, cli.ProgressLine(last.st, cli.PhaseElapsed(last.st, start, now), cli.DefaultBarWidth))
	}

	if info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		ask()
	}
	ticker := time.NewTicker(a.refresh)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			live.Finish()
			fmt.Fprintf(a.stderr, "still running; reattach with: %s\n", a.reattachCommand(id))
			return &cli.ExitError{Code: cli.ExitInterrupted, Silent: true}
		case ans := <-outcomes:
			if ans.err != nil {
				if ctx.Err() != nil {
					continue // interrupted: the ctx.Done case reports it
				}
				live.Finish()
				return fmt.Errorf("waiting for workflow %q: %s", id, oneLine(ans.err.Error()))
			}
			live.Finish()
			return a.reportOutcome(id, start, ans.o)
		case ans := <-answers:
			inFlight = false
			if ctx.Err() == nil {
				last = &ans
				redraw()
			}
		case <-ticker.C:
			if !inFlight {
				ask()
			}
			redraw()
		}
	}
}

// reportOutcome prints how the awaited workflow ended and returns nil on
// success or an error (exit code 1) carrying the reason.
func (a *app) reportOutcome(id string, start time.Time, o outcome) error {
	status := cli.StatusName(o.Status)
	if a.format == cli.FormatJSON {
		if err := cli.WriteJSON(a.stdout, waitReport{
			WorkflowID: id, RunID: o.RunID, Status: status, StartTime: start,
			CloseTime: o.CloseTime, Result: o.Result, Reason: o.Reason,
		}); err != nil {
			return err
		}
	}
	if o.Status != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		reason := o.Reason
		if reason == "" || reason == status {
			return fmt.Errorf("workflow %q %s after %s", id, status, cli.FormatDuration(o.CloseTime.Sub(start)))
		}
		return fmt.Errorf("workflow %q %s after %s: %s", id, status, cli.FormatDuration(o.CloseTime.Sub(start)), reason)
	}
	if a.format == cli.FormatJSON {
		return nil
	}
	fmt.Fprintf(a.stderr, "workflow %q completed after %s\n", id, cli.FormatDuration(o.CloseTime.Sub(start)))
	if o.HasResult && o.Result != nil {
		if s, ok := o.Result.(string); ok {
			fmt.Fprintln(a.stdout, s)
			return nil
		}
		return cli.WriteJSON(a.stdout, o.Result)
	}
	return nil
}

// reattachCommand is the command line that resumes waiting, keeping the
// connection flags the user gave.
func (a *app) reattachCommand(id string) string {
	parts := []string{"starter", "wait", shellQuote(id)}
	if a.flags.address != "" {
		parts = append(parts, "--address", shellQuote(a.flags.address))
	}
	if a.flags.namespace != "" {
		parts = append(parts, "--namespace", shellQuote(a.flags.namespace))
	}
	return strings.Join(parts, " ")
}

// shellQuote quotes s for a POSIX shell when it contains anything but
// plainly safe characters.
func shellQuote(s string) string {
	safe := s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@=+,%", r))
	})
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ---- cancel ----

// cancelReport is what `starter cancel -o json` prints.
type cancelReport struct {
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
	Action     string `json:"action"`
	Reason     string `json:"reason,omitempty"`
}

func (a *app) cancelCommand() *cobra.Command {
	var runID, reason string
	var terminate bool
	cmd := &cobra.Command{
		Use:   "cancel ID",
		Short: "Ask a workflow to stop (or terminate it)",
		Long: `Request cancellation of a running workflow. The workflow is told and stops cleanly (it may
run clean-up steps first); follow it with 'starter wait ID'. With --terminate the run is
ended at once by the server, without giving the workflow a chance to clean up.`,
		Example: `  starter cancel glacier/my-vault/inventory --reason "wrong vault"
  starter cancel backup/cache/2025-01-01T00:00:00Z --terminate --reason "stuck"`,
		Args: exactlyOneID,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runCancel(cmd.Context(), args[0], runID, reason, terminate)
		},
	}
	f := cmd.Flags()
	f.StringVar(&runID, "run-id", "", "a specific run (default: the latest)")
	f.StringVar(&reason, "reason", "", "why, recorded in the workflow history")
	f.BoolVar(&terminate, "terminate", false, "terminate immediately instead of requesting cancellation")
	return cmd
}

func (a *app) runCancel(ctx context.Context, id, runID, reason string, terminate bool) error {
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
	runID = info.GetExecution().GetRunId()
	if info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return fmt.Errorf("workflow %q is already %s; nothing to cancel", id, cli.StatusName(info.GetStatus()))
	}

	rep := cancelReport{WorkflowID: id, RunID: runID, Reason: reason}
	if terminate {
		if rep.Reason == "" {
			rep.Reason = "terminated with starter cancel --terminate"
		}
		if err := c.TerminateWorkflow(ctx, id, runID, rep.Reason); err != nil {
			return fmt.Errorf("terminating workflow %q: %s", id, oneLine(err.Error()))
		}
		rep.Action = "terminated"
	} else {
		_, err := c.WorkflowService().RequestCancelWorkflowExecution(ctx, &workflowservice.RequestCancelWorkflowExecutionRequest{
			Namespace:         a.namespace,
			WorkflowExecution: info.GetExecution(),
			Identity:          identity(),
			Reason:            reason,
		})
		if err != nil {
			return fmt.Errorf("canceling workflow %q: %s", id, oneLine(err.Error()))
		}
		rep.Action = "cancel_requested"
	}

	if a.format == cli.FormatJSON {
		return cli.WriteJSON(a.stdout, rep)
	}
	if terminate {
		fmt.Fprintf(a.stdout, "Terminated workflow %s (run %s).\n", id, runID)
		return nil
	}
	fmt.Fprintf(a.stdout, "Cancellation requested for workflow %s (run %s); follow it with: starter wait %s\n", id, runID, shellQuote(id))
	return nil
}
