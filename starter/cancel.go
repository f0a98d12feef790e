package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/vigilops/vigil/internal/cli"
)

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
