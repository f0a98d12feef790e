package main

import (
	"context"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/cli"
)

// attach are the start options of flows whose ID names what they act on:
// a second start attaches to the running workflow.
func attach(id string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{ID: id, WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING}
}

// startFlow starts the workflow opts names on the task queue, prints how to
// follow it, and with wait follows it to its end.
func (a *app) startFlow(ctx context.Context, opts client.StartWorkflowOptions, workflowType string, input any, wait bool) error {
	id := opts.ID
	opts.TaskQueue = a.flags.taskQueue
	if opts.StaticSummary == "" {
		opts.StaticSummary = staticSummary(input)
	}
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
