package main

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/cli"
	"github.com/vigilops/vigil/internal/setup"
	"github.com/vigilops/vigil/workflows"
)

// awsClients loads the AWS configuration from the SDK's default chain
// (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL, ...).
func (a *app) awsClients(ctx context.Context) (*awsconf.Clients, error) {
	cfg, err := awsconf.Load(ctx, "")
	if err != nil {
		return nil, err
	}
	return awsconf.NewClients(cfg), nil
}

// setupFailed turns a setup error into the command's error: a missing
// vault or bucket is bad input (exit 2, nothing changed).
func setupFailed(err error) error {
	var nf *setup.NotFoundError
	if errors.As(err, &nf) {
		return cli.NotFound(nf)
	}
	return err
}

// printSetup renders a setup report and records its queue in Temporal so
// running workers consume it without a restart.
func (a *app) printSetup(ctx context.Context, rep setup.Report) error {
	if a.format == cli.FormatJSON {
		if err := cli.WriteJSON(a.stdout, rep); err != nil {
			return err
		}
	} else {
		for _, s := range rep.Steps {
			fmt.Fprintf(a.stdout, "%-8s %s %s\n", s.Action, s.Resource, s.Name)
		}
		if !rep.Changed() {
			fmt.Fprintln(a.stdout, "nothing to change")
		}
	}
	c, err := a.connect(ctx)
	if err != nil {
		fmt.Fprintf(a.stderr, "starter: note: queue not recorded in Temporal (%v); workers consume %s by default, or start them with --queue\n", oneLine(err.Error()), setup.DefaultQueue)
		return nil
	}
	defer c.Close()
	_, err = c.SignalWithStartWorkflow(ctx, workflows.RouterQueuesWorkflowID, workflows.AddQueueSignal, rep.QueueURL,
		client.StartWorkflowOptions{ID: workflows.RouterQueuesWorkflowID, TaskQueue: a.flags.taskQueue}, workflows.RouterQueuesName, []string{})
	if err != nil {
		fmt.Fprintf(a.stderr, "starter: note: queue not recorded in Temporal: %s\n", oneLine(err.Error()))
	}
	return nil
}
