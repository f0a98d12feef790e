package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/cli"
	"github.com/vigilops/vigil/workflows"
)

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
			st, err := a.queryLiveStatus(loopCtx, c, id, "")
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
		// The workflow's own outcome exits 1 whatever its reason says: a run
		// that failed on a TLS or not-found error is not an unreachable or
		// missing target of this command.
		if reason == "" || reason == status {
			return &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("workflow %q %s after %s", id, status, cli.FormatDuration(o.CloseTime.Sub(start)))}
		}
		return &cli.ExitError{Code: cli.ExitFailure, Err: cli.WithDetails(fmt.Errorf("workflow %q %s after %s: %s", id, status, cli.FormatDuration(o.CloseTime.Sub(start)), reason), o.Chain)}
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
func (a *app) reattachCommand(id string) string { return a.hintCommand("wait", id) }

// stopCommand is the `starter cancel` line for id, keeping the connection
// flags the user gave.
func (a *app) stopCommand(id string) string { return a.hintCommand("cancel", id) }

// hintCommand is `starter VERB ID` with the connection flags the user gave.
func (a *app) hintCommand(verb, id string) string {
	parts := []string{"starter", verb, shellQuote(id)}
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
