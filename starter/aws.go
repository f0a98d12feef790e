package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
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
// vault or bucket is "not found" (exit 3, nothing changed).
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

// headObject checks that s3://bucket/key (at versionID, when set) exists:
// the one not-found check of the starter's S3 verbs. A missing bucket,
// key or version is "not found" (exit 3); other failures keep their cause
// (an unreachable endpoint is exit 4).
func headObject(ctx context.Context, aw *awsconf.Clients, bucket, key, versionID string) (*s3.HeadObjectOutput, error) {
	head := &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if versionID != "" {
		head.VersionId = aws.String(versionID)
	}
	h, err := aw.S3.HeadObject(ctx, head)
	switch {
	case err == nil:
		return h, nil
	case cli.IsNotFound(err):
		what := fmt.Sprintf("s3://%s/%s", bucket, key)
		if versionID != "" {
			what += " version " + versionID
		}
		return nil, cli.NotFound(fmt.Errorf("no such object %s", what))
	}
	return nil, fmt.Errorf("checking s3://%s/%s: %w", bucket, key, err)
}
