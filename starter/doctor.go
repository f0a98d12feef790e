package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/cli"
	"github.com/vigilops/vigil/workflows"
)

// doctorTimeout bounds the self-check workflow.
const doctorTimeout = 20 * time.Second

func (a *app) doctorCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check that Temporal, the search attributes, a worker and its cloud access all work",
		Long: `doctor checks, in order: the Temporal connection; that the search attributes VigilFlow,
VigilTarget, VigilArchiveID and VigilInternal exist in the namespace; that a worker polls the task queue; and, by running the
SelfCheck workflow on that worker, that the worker reaches S3 and SQS. Each problem is one line
with a fix; the exit code is 0 only when everything works.`,
		Example: `  starter doctor
  starter --address temporal.internal:7233 --namespace ops doctor`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			ok := true
			var checks []doctorCheck
			report := func(good bool, format string, args ...any) {
				mark := "ok  "
				if !good {
					mark, ok = "FAIL", false
				}
				checks = append(checks, doctorCheck{OK: good, Check: fmt.Sprintf(format, args...)})
				if a.format != cli.FormatJSON {
					fmt.Fprintf(a.stdout, "%s %s\n", mark, fmt.Sprintf(format, args...))
				}
			}
			// Under -o json the checks are one document, printed at the end.
			defer func() {
				if a.format == cli.FormatJSON {
					_ = cli.WriteJSON(a.stdout, doctorReport{OK: ok, Checks: checks})
				}
			}()
			report(true, "Temporal reachable (namespace %s)", a.namespace)
			sa, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: a.namespace})
			for _, name := range workflows.SearchAttributes {
				switch {
				case err != nil:
					report(false, "cannot list search attributes: %v", oneLine(err.Error()))
				case sa.CustomAttributes[name] != enumspb.INDEXED_VALUE_TYPE_KEYWORD:
					report(false, "search attribute %s missing — temporal operator search-attribute create --name %s --type Keyword --namespace %s", name, name, a.namespace)
				default:
					report(true, "search attribute %s (Keyword)", name)
				}
			}
			pollers := a.pollers(ctx, c)
			if pollers == 0 {
				report(false, "no worker polls task queue %q — start one: go run ./worker (or ./worker --dev locally)", a.flags.taskQueue)
				return &cli.ExitError{Code: cli.ExitFailure, Err: errors.New("doctor found problems"), Silent: true}
			}
			report(true, "%d poller(s) on task queue %s", pollers, a.flags.taskQueue)
			sctx, cancel := context.WithTimeout(ctx, doctorTimeout)
			defer cancel()
			id := "selfcheck/" + a.now().UTC().Format("20060102T150405.000Z")
			run, err := c.ExecuteWorkflow(sctx, client.StartWorkflowOptions{ID: id, TaskQueue: a.flags.taskQueue, WorkflowExecutionTimeout: doctorTimeout}, workflows.SelfCheckName)
			var res activities.ProbeResult
			if err == nil {
				err = run.Get(sctx, &res)
			}
			if err != nil {
				report(false, "the worker's self-check failed: %s", oneLine(err.Error()))
			} else {
				report(true, "worker reaches the cloud: %d S3 bucket(s), %d SQS queue(s)", res.Buckets, res.Queues)
			}
			if !ok {
				return &cli.ExitError{Code: cli.ExitFailure, Err: errors.New("doctor found problems"), Silent: true}
			}
			return nil
		},
	}
}

// pollers counts the workflow pollers of the task queue, giving a worker
// that is just starting a few seconds to show up.
func (a *app) pollers(ctx context.Context, c client.Client) int {
	deadline := time.Now().Add(5 * time.Second)
	for {
		tq, err := c.WorkflowService().DescribeTaskQueue(ctx, &workflowservice.DescribeTaskQueueRequest{Namespace: a.namespace,
			TaskQueue: &taskqueuepb.TaskQueue{Name: a.flags.taskQueue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL}})
		if err == nil && len(tq.Pollers) > 0 {
			return len(tq.Pollers)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return 0
		}
		select {
		case <-ctx.Done():
			return 0
		case <-time.After(250 * time.Millisecond):
		}
	}
}
