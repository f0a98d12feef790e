package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigilops/vigil/internal/cli"
	"github.com/vigilops/vigil/internal/s3bind"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// S3SweepWorkflowID is the ID of the sweep of a bucket/prefix: a second
// sweep while one runs attaches to it.
func s3SweepWorkflowID(bucket, prefix string) string { return "s3sweep/" + bucket + "/" + prefix }

func (a *app) s3SweepCommand() *cobra.Command {
	var bucket, prefix, file string
	var olderThan time.Duration
	var wait bool
	var hf hostFlags
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
				exact := func(bs []flowdata.S3Binding) (flowdata.S3Binding, bool) { return s3bind.Find(bs, bucket, prefix) }
				if p, err = a.boundPipeline(ctx, exact, fmt.Sprintf("s3://%s/%s is not bound", bucket, prefix)); err != nil {
					return err
				}
			}
			ot := flowdata.Duration(olderThan)
			in := workflows.S3SweepInput{Bucket: bucket, Prefix: prefix, OlderThan: &ot, Pipeline: p}
			if err := a.checkHosts(ctx, in, hf.allowUnknown); err != nil {
				return err
			}
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
	hf.add(cmd, false)
	return cmd
}
