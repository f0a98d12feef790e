package main

import (
	"context"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/cli"
	"github.com/vigilops/vigil/workflows"
)

// attach are the start options of flows whose ID names what they act on:
// a second start attaches to the running workflow.
func attach(id string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{ID: id, WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING}
}

// startFlow starts the workflow opts names on the task queue, prints how to
// follow it, and with wait follows it to its end.
func (a *app) startFlow(ctx context.Context, opts client.StartWorkflowOptions, workflowType string, input any, wait bool) error {
	return a.startFlowChecked(ctx, opts, workflowType, input, wait, nil)
}

// inputDiff compares the input of the running workflow a start would
// attach to (its started event's payloads) with this start's, and names
// the first difference that matters ("" when they ask for the same).
type inputDiff func(running *commonpb.Payloads) string

// startFlowChecked is startFlow for flows whose ID names what they act on:
// a start that would attach to a running workflow asked for something else
// (diff says what) is refused, naming the difference and the running run.
func (a *app) startFlowChecked(ctx context.Context, opts client.StartWorkflowOptions, workflowType string, input any, wait bool, diff inputDiff) error {
	id := opts.ID
	opts.TaskQueue = workflows.RouteTaskQueue(input, a.flags.taskQueue)
	if opts.StaticSummary == "" {
		opts.StaticSummary = workflows.StaticSummary(input)
	}
	if opts.StaticDetails == "" {
		opts.StaticDetails = workflows.StaticDetails(input)
	}
	a.warnSecretEnv(input)
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	running := ""
	if opts.WorkflowIDConflictPolicy == enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING {
		if d, err := c.DescribeWorkflowExecution(ctx, id, ""); err == nil &&
			d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			running = d.GetWorkflowExecutionInfo().GetExecution().GetRunId()
		}
	}
	if running != "" && diff != nil {
		if what := runningDiff(ctx, c, id, running, diff); what != "" {
			return fmt.Errorf("%s is already running (run %s) %s; wait for it, or cancel it first: %s", id, running, what, a.stopCommand(id))
		}
	}
	run, err := c.ExecuteWorkflow(ctx, opts, workflowType, input)
	if err != nil {
		return fmt.Errorf("starting %s: %w", id, err)
	}
	attached := running != "" && running == run.GetRunID()
	link := a.workflowLink(id, run.GetRunID())
	if a.format == cli.FormatJSON && !wait {
		return cli.WriteJSON(a.stdout, map[string]any{"workflowId": id, "runId": run.GetRunID(), "attached": attached, "uiUrl": link})
	}
	verb := "started"
	if attached {
		verb = "attached to the running"
	}
	fmt.Fprintf(a.stderr, "%s %s (run %s)\n  follow: %s\n", verb, id, run.GetRunID(), a.reattachCommand(id))
	if link != "" {
		fmt.Fprintf(a.stderr, "  web ui: %s\n", link)
	}
	if !wait {
		return nil
	}
	return a.waitWorkflow(ctx, c, id, run.GetRunID())
}

// runningDiff reads the running run's input from its first event and
// compares it with diff.
func runningDiff(ctx context.Context, c client.Client, id, runID string, diff inputDiff) string {
	iter := c.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	if !iter.HasNext() {
		return ""
	}
	ev, err := iter.Next()
	if err != nil {
		return ""
	}
	return diff(ev.GetWorkflowExecutionStartedEventAttributes().GetInput())
}

// differs describes the first flag whose value differs between the running
// run and this start, "" when none does: pairs of flag, running, wanted.
func differs(pairs ...[3]string) string {
	for _, p := range pairs {
		if p[1] != p[2] {
			return fmt.Sprintf("with %s %s; this start asks %s %s", p[0], orNone(p[1]), p[0], orNone(p[2]))
		}
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
