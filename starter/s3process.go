package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
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
	cmd := &cobra.Command{
		Use:   "setup-events --bucket BUCKET --prefix PREFIX --pipeline FILE",
		Short: "Process every object created under a prefix with a pipeline (idempotent)",
		Long: `setup-events creates the notification queue (default vigil-notifications, with a dead-letter
queue) if needed, lets the bucket send to it, adds a queue configuration for s3:ObjectCreated:*
under the prefix (keeping the bucket's other configurations), and binds bucket/prefix to the
pipeline in Temporal (the vigil/s3-bindings workflow), where every worker finds it within
seconds, without a restart. Running it again changes nothing, or replaces the pipeline.`,
		Example: `  starter s3 setup-events --bucket reports-inbox --prefix incoming/ --pipeline reports.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkBucketPrefix(bucket, prefix); err != nil {
				return err
			}
			p, err := readPipeline(file)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			aw, err := a.awsClients(ctx)
			if err != nil {
				return err
			}
			rep, err := setup.S3Events(ctx, aw, setup.ObjectCreatedEvents(bucket, prefix, queue))
			if err != nil {
				return setupFailed(err)
			}
			if err := a.printSetup(ctx, rep); err != nil {
				return err
			}
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := s3bind.Bind(ctx, c, a.flags.taskQueue, flowdata.S3Binding{Bucket: bucket, Prefix: prefix, Pipeline: p}); err != nil {
				return fmt.Errorf("binding s3://%s/%s: %w", bucket, prefix, err)
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
	return cmd
}

// bindingRow is one binding as `starter s3 bindings -o json` prints it.
type bindingRow struct {
	Bucket    string            `json:"bucket"`
	Prefix    string            `json:"prefix"`
	Pipeline  string            `json:"pipeline"`
	Processor string            `json:"processor"`
	Archive   string            `json:"archive"`
	Spec      flowdata.Pipeline `json:"spec"`
}

func (a *app) s3BindingsCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "bindings",
		Short:   "List the bucket/prefix → pipeline bindings",
		Example: `  starter s3 bindings -o json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			bs, err := s3bind.List(ctx, c)
			if err != nil {
				return err
			}
			rows := make([]bindingRow, 0, len(bs))
			for _, b := range bs {
				ab, ak := b.Pipeline.Archive.Resolve(b.Bucket, "", flowdata.DefaultArchivePrefix)
				rows = append(rows, bindingRow{Bucket: b.Bucket, Prefix: b.Prefix, Pipeline: b.Pipeline.Name,
					Processor: b.Pipeline.Processor.Kind, Archive: "s3://" + ab + "/" + ak, Spec: b.Pipeline})
			}
			if a.format == cli.FormatJSON {
				return cli.WriteJSON(a.stdout, rows)
			}
			if len(rows) == 0 {
				fmt.Fprintln(a.stdout, "no bindings")
				return nil
			}
			table := make([][]string, 0, len(rows))
			for _, r := range rows {
				table = append(table, []string{"s3://" + r.Bucket + "/" + r.Prefix, r.Pipeline, r.Processor, r.Archive})
			}
			return cli.WriteTable(a.stdout, []string{"SOURCE", "PIPELINE", "PROCESSOR", "ARCHIVE"}, table)
		},
	}
}

func (a *app) s3UnbindCommand() *cobra.Command {
	var bucket, prefix string
	var keepEvents bool
	cmd := &cobra.Command{
		Use:   "unbind --bucket BUCKET --prefix PREFIX",
		Short: "Remove a bucket/prefix binding and the bucket notification setup-events added",
		Long: `unbind first removes the bucket's queue configuration that setup-events added for the prefix
(other configurations, the queue and its policy stay; already removed is fine), so S3 stops sending
events for it, then the binding; workers stop starting runs for it within seconds. With
--keep-events the notification stays: events still sent for the prefix are then left on the queue
(logged) until its redrive policy moves them to the dead-letter queue.`,
		Example: `  starter s3 unbind --bucket reports-inbox --prefix incoming/`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkBucketPrefix(bucket, prefix); err != nil {
				return err
			}
			ctx := cmd.Context()
			if !keepEvents {
				aw, err := a.awsClients(ctx)
				if err != nil {
					return err
				}
				rep, err := setup.RemoveS3Events(ctx, aw, setup.ObjectCreatedEvents(bucket, prefix, ""))
				if err != nil {
					return setupFailed(err)
				}
				if a.format != cli.FormatJSON {
					for _, s := range rep.Steps {
						fmt.Fprintf(a.stdout, "%-8s %s %s\n", s.Action, s.Resource, s.Name)
					}
				}
			}
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := s3bind.Unbind(ctx, c, bucket, prefix); err != nil {
				if errors.Is(err, s3bind.ErrNoBinding) {
					return &cli.ExitError{Code: cli.ExitFailure, Err: err}
				}
				return err
			}
			if a.format == cli.FormatJSON {
				return cli.WriteJSON(a.stdout, map[string]any{"bucket": bucket, "prefix": prefix, "unbound": true})
			}
			fmt.Fprintf(a.stdout, "unbound s3://%s/%s\n", bucket, prefix)
			return nil
		},
	}
	cmd.Flags().StringVar(&bucket, "bucket", "", "bucket name (required)")
	cmd.Flags().StringVar(&prefix, "prefix", "", "the bound prefix")
	cmd.Flags().BoolVar(&keepEvents, "keep-events", false, "leave the bucket's notification configuration as it is")
	return cmd
}

// bindingFor returns the pipeline of the binding covering bucket/key (the
// longest prefix).
func (a *app) bindingFor(ctx context.Context, bucket, key string) (flowdata.Pipeline, error) {
	c, err := a.connect(ctx)
	if err != nil {
		return flowdata.Pipeline{}, err
	}
	defer c.Close()
	bs, err := s3bind.List(ctx, c)
	if err != nil {
		return flowdata.Pipeline{}, err
	}
	b, ok := workflows.FindBinding(bs, bucket, key)
	if !ok {
		return flowdata.Pipeline{}, &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("no binding covers s3://%s/%s: pass --pipeline", bucket, key)}
	}
	return b.Pipeline, nil
}

func (a *app) s3ProcessCommand() *cobra.Command {
	var bucket, key, versionID, file string
	var wait bool
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
				if p, err = a.bindingFor(ctx, bucket, key); err != nil {
					return err
				}
			}
			aw, err := a.awsClients(ctx)
			if err != nil {
				return err
			}
			head := &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
			if versionID != "" {
				head.VersionId = aws.String(versionID)
			}
			h, err := aw.S3.HeadObject(ctx, head)
			if err != nil {
				var api smithy.APIError
				if errors.As(err, &api) && (api.ErrorCode() == "NotFound" || api.ErrorCode() == "NoSuchBucket" || api.ErrorCode() == "NoSuchKey") {
					return &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("no such object s3://%s/%s", bucket, key)}
				}
				return fmt.Errorf("checking s3://%s/%s: %w", bucket, key, err)
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
	return cmd
}

func unquoteETag(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// S3SweepWorkflowID is the ID of the sweep of a bucket/prefix: a second
// sweep while one runs attaches to it.
func s3SweepWorkflowID(bucket, prefix string) string { return "s3sweep/" + bucket + "/" + prefix }

func (a *app) s3SweepCommand() *cobra.Command {
	var bucket, prefix, file string
	var olderThan time.Duration
	var wait bool
	cmd := &cobra.Command{
		Use:   "sweep --bucket BUCKET --prefix PREFIX [--older-than 5m] [--pipeline FILE]",
		Short: "Process the objects under a prefix that no event announced",
		Long: `sweep lists only the prefix (never the archive), starts or finds the S3Object run of every
object older than --older-than, and reports found / started / already running / already done;
"started" are the missed events, objects S3 never announced. Without --pipeline the binding of
exactly bucket/prefix is used. A sweep already running for the prefix is attached to.`,
		Example: `  starter s3 sweep --bucket reports-inbox --prefix incoming/ --older-than 10m --wait
  starter schedule create sweep-inbox --every 5m --workflow s3-sweep --input '{bucket: reports-inbox, prefix: incoming/, pipeline: {...}}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkBucketPrefix(bucket, prefix); err != nil {
				return err
			}
			if olderThan < 0 {
				return cli.Usagef("--older-than %s: must not be negative", olderThan)
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
				c, err := a.connect(ctx)
				if err != nil {
					return err
				}
				bs, err := s3bind.List(ctx, c)
				c.Close()
				if err != nil {
					return err
				}
				b, ok := s3bind.Find(bs, bucket, prefix)
				if !ok {
					return &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("s3://%s/%s is not bound: pass --pipeline", bucket, prefix)}
				}
				p = b.Pipeline
			}
			ot := flowdata.Duration(olderThan)
			in := workflows.S3SweepInput{Bucket: bucket, Prefix: prefix, OlderThan: &ot, Pipeline: p}
			opts := client.StartWorkflowOptions{ID: s3SweepWorkflowID(bucket, prefix),
				WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING}
			return a.startFlow(ctx, opts, workflows.S3SweepName, in, wait)
		},
	}
	f := cmd.Flags()
	f.StringVar(&bucket, "bucket", "", "bucket (required)")
	f.StringVar(&prefix, "prefix", "", "incoming prefix")
	f.DurationVar(&olderThan, "older-than", workflows.DefaultSweepOlderThan, "only objects older than this (younger ones are left to their events)")
	f.StringVar(&file, "pipeline", "", "pipeline file (default: the binding of bucket/prefix)")
	f.BoolVar(&wait, "wait", false, "wait for the outcome, showing progress")
	return cmd
}

func (a *app) s3GenerateCommand() *cobra.Command {
	var bucket, prefix string
	var count int
	cmd := &cobra.Command{
		Use:   "generate --bucket BUCKET --prefix PREFIX --count N",
		Short: "Upload N small generated files under a prefix (to try a pipeline, e.g. on the --dev demo-inbox)",
		Example: `  starter s3 generate --bucket demo-inbox --prefix incoming/ --count 50
  starter list --flow s3-object`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkBucketPrefix(bucket, prefix); err != nil {
				return err
			}
			if count < 1 || count > 100000 {
				return cli.Usagef("--count %d: want 1 to 100000", count)
			}
			ctx := cmd.Context()
			aw, err := a.awsClients(ctx)
			if err != nil {
				return err
			}
			stamp := time.Now().UTC().Format("20060102T150405")
			keys := make([]string, 0, count)
			for i := range count {
				key := fmt.Sprintf("%sgenerated-%s-%05d.txt", prefix, stamp, i)
				body := fmt.Sprintf("vigil generated file %d of %d at %s\n", i+1, count, stamp)
				if _, err := aw.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
					Body: strings.NewReader(body)}); err != nil {
					return fmt.Errorf("uploading s3://%s/%s: %w", bucket, key, err)
				}
				keys = append(keys, key)
			}
			if a.format == cli.FormatJSON {
				return cli.WriteJSON(a.stdout, keys)
			}
			fmt.Fprintf(a.stdout, "uploaded %d files to s3://%s/%s\n", count, bucket, prefix)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&bucket, "bucket", "", "bucket (required)")
	f.StringVar(&prefix, "prefix", "incoming/", "key prefix")
	f.IntVar(&count, "count", 10, "number of files")
	return cmd
}
