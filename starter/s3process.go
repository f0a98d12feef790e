package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/cli"
	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/internal/pipeline"
	"github.com/vigilops/vigil/internal/s3bind"
	"github.com/vigilops/vigil/internal/setup"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// s3ProcessCommands are the S3 reprocessing verbs of `starter s3`.
func (a *app) s3ProcessCommands() []*cobra.Command {
	return []*cobra.Command{a.s3SetupEventsCommand(), a.s3BindingsCommand(), a.s3UnbindCommand(), a.s3ProcessCommand(), a.s3SweepCommand(),
		a.s3GenerateCommand()}
}

// checkBucketPrefix validates --bucket and --prefix.
func checkBucketPrefix(bucket, prefix string) error {
	if err := location.ValidateBucket(bucket); err != nil {
		return cli.Usagef("--bucket: %v", err)
	}
	if err := pipeline.ValidatePrefix("--prefix", prefix); err != nil {
		return cli.Usagef("%v", err)
	}
	return nil
}

// readPipeline reads --pipeline; a bad file is bad input.
func readPipeline(path string) (flowdata.Pipeline, error) {
	p, err := pipeline.ReadFile(path)
	if err != nil {
		return p, cli.Usagef("%v", err)
	}
	return p, nil
}

func (a *app) s3SetupEventsCommand() *cobra.Command {
	var bucket, prefix, file, queue string
	var hf hostFlags
	cmd := &cobra.Command{
		Use:   "setup-events --bucket BUCKET --prefix PREFIX --pipeline FILE",
		Short: "Process every object created under a prefix with a pipeline (idempotent)",
		Long: `setup-events creates the notification queue (default vigil-notifications, with a dead-letter
queue) if needed, lets the bucket send to it, adds a queue configuration for s3:ObjectCreated:*
under the prefix (keeping the bucket's other configurations), and binds bucket/prefix to the
pipeline in Temporal (the vigil/s3-bindings workflow), where every worker finds it within
seconds, without a restart. Running it again changes nothing, or replaces the pipeline.` +
			fileFormatHelp("Pipeline file (also for 's3 process' and 's3 sweep' --pipeline)", "pipelines/reports.yaml", "pipeline.schema.json"),
		Example: `  starter s3 setup-events --bucket reports-inbox --prefix incoming/ --pipeline examples/pipelines/reports.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkBucketPrefix(bucket, prefix); err != nil {
				return err
			}
			p, err := readPipeline(file)
			if err != nil {
				return err
			}
			a.warnSecretEnv(p)
			ctx := cmd.Context()
			if err := a.checkHosts(ctx, p, hf.allowUnknown); err != nil {
				return err
			}
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			binding := flowdata.S3Binding{Bucket: bucket, Prefix: prefix, Pipeline: p}
			// Refused before the bucket's notification is set up.
			have, err := s3bind.List(ctx, c)
			if err != nil {
				return err
			}
			if err := s3bind.CheckBinding(have, binding); err != nil {
				return cli.Usagef("%v", err)
			}
			aw, err := a.awsClients(ctx)
			if err != nil {
				return err
			}
			// Bound before the notification is enabled: a record that
			// arrives in between would match no binding, and the router
			// acknowledges those. A failed set-up puts the bindings back
			// as they were.
			if err := s3bind.Bind(ctx, c, a.flags.taskQueue, binding); err != nil {
				return fmt.Errorf("binding s3://%s/%s: %w", bucket, prefix, err)
			}
			rep, err := setup.S3Events(ctx, aw, setup.ObjectCreatedEvents(bucket, prefix, queue))
			if err != nil {
				a.restoreBinding(ctx, c, have, bucket, prefix)
				return setupFailed(err)
			}
			if err := a.printSetup(ctx, rep); err != nil {
				return err
			}
			if a.format != cli.FormatJSON {
				fmt.Fprintf(a.stdout, "bound    s3://%s/%s to pipeline %s\n", bucket, prefix, p.Name)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&bucket, "bucket", "", "bucket name (required)")
	f.StringVar(&prefix, "prefix", "", "key prefix of incoming objects, ending with '/' (empty: the whole bucket)")
	f.StringVar(&file, "pipeline", "", "pipeline file, YAML or JSON (required)")
	f.StringVar(&queue, "queue", "", "notification queue name (default vigil-notifications)")
	hf.add(cmd, false)
	return cmd
}

func (a *app) s3ProcessCommand() *cobra.Command {
	var bucket, key, versionID, file string
	var wait bool
	var hf hostFlags
	cmd := &cobra.Command{
		Use:   "process --bucket BUCKET --key KEY [--pipeline FILE]",
		Short: "Process one object now (or attach to its run)",
		Long: `process starts the S3Object run of the object's current version, s3obj/<bucket>/<key>@<etag>,
or attaches to it while it runs. A version whose run already ended is not processed again (the
ID policy is REJECT_DUPLICATE): the command says so and shows that run. Without --pipeline the
pipeline of the binding covering the key is used.`,
		Example: `  starter s3 process --bucket reports-inbox --key "incoming/2026-11-30 sales.csv" --wait`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := location.ValidateBucket(bucket); err != nil {
				return cli.Usagef("--bucket: %v", err)
			}
			if key == "" {
				return cli.Usagef("--key is required")
			}
			var p flowdata.Pipeline
			var err error
			if file != "" {
				if p, err = readPipeline(file); err != nil {
					return err
				}
			}
			ctx := cmd.Context()
			if file == "" {
				covering := func(bs []flowdata.S3Binding) (flowdata.S3Binding, bool) {
					return workflows.FindBinding(bs, bucket, key)
				}
				if p, err = a.boundPipeline(ctx, covering, fmt.Sprintf("no binding covers s3://%s/%s", bucket, key)); err != nil {
					return err
				}
			}
			if err := a.checkHosts(ctx, p, hf.allowUnknown); err != nil {
				return err
			}
			aw, err := a.awsClients(ctx)
			if err != nil {
				return err
			}
			h, err := headObject(ctx, aw, bucket, key, versionID)
			if err != nil {
				return err
			}
			in := flowdata.S3ObjectInput{Object: flowdata.S3ObjectRef{Bucket: bucket, Key: key, VersionID: versionID,
				ETag: unquoteETag(aws.ToString(h.ETag)), Size: aws.ToInt64(h.ContentLength)}, Pipeline: p, Source: flowdata.SourceManual}
			opts := activities.S3ObjectStartOptions(a.flags.taskQueue, in, enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING)
			opts.WorkflowExecutionErrorWhenAlreadyStarted = true
			err = a.startFlow(ctx, opts, workflows.S3ObjectName, in, wait)
			var dup *serviceerror.WorkflowExecutionAlreadyStarted
			if errors.As(err, &dup) {
				fmt.Fprintf(a.stderr, "%s already ran (run %s) and is not run again for this version\n", opts.ID, dup.RunId)
				if wait {
					c, cerr := a.connect(ctx)
					if cerr != nil {
						return cerr
					}
					defer c.Close()
					return a.waitWorkflow(ctx, c, opts.ID, dup.RunId)
				}
				if a.format == cli.FormatJSON {
					return cli.WriteJSON(a.stdout, map[string]any{"workflowId": opts.ID, "runId": dup.RunId, "alreadyRan": true})
				}
				return nil
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&bucket, "bucket", "", "bucket (required)")
	f.StringVar(&key, "key", "", "object key (required)")
	f.StringVar(&versionID, "version-id", "", "object version (versioned buckets)")
	f.StringVar(&file, "pipeline", "", "pipeline file (default: the binding covering the key)")
	f.BoolVar(&wait, "wait", false, "wait for the outcome, showing progress")
	hf.add(cmd, false)
	return cmd
}

func unquoteETag(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// restoreBinding puts the binding of bucket and prefix back as it was in
// have (removed if it was not there) after a failed set-up; a failure to do
// so is logged, the set-up's error is the one reported.
func (a *app) restoreBinding(ctx context.Context, c client.Client, have []flowdata.S3Binding, bucket, prefix string) {
	var err error
	if prev, ok := s3bind.Find(have, bucket, prefix); ok {
		err = s3bind.Bind(ctx, c, a.flags.taskQueue, prev)
	} else {
		err = s3bind.Unbind(ctx, c, bucket, prefix)
	}
	if err != nil {
		a.logger().Warn("could not put the S3 bindings back after the failed set-up", "bucket", bucket, "prefix", prefix, "error", err)
	}
}
