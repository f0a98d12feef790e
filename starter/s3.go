package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/vigilops/vigil/internal/catalog"
	"github.com/vigilops/vigil/internal/cli"
	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/internal/setup"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// s3Commands is `starter s3 ...`.
func (a *app) s3Commands() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "s3",
		Short: "Restore archived S3 objects durably; process objects as they arrive (pipelines, sweeps)",
		Example: `  starter s3 setup-restore-events --bucket my-archive
  starter s3 restore --bucket my-archive --key db.dump --to file:///srv/db.dump --wait`,
	}
	cmd.AddCommand(a.s3SetupRestoreEventsCommand(), a.s3RestoreCommand())
	cmd.AddCommand(a.s3ProcessCommands()...)
	return cmd
}

func (a *app) s3SetupRestoreEventsCommand() *cobra.Command {
	var bucket, queue string
	cmd := &cobra.Command{
		Use:   "setup-restore-events --bucket BUCKET",
		Short: "Send the bucket's s3:ObjectRestore:Completed events to vigil's queue (idempotent)",
		Long: `setup-restore-events creates the notification queue (default vigil-notifications, with a
dead-letter queue) if needed, lets the bucket (only) send to it, and adds a queue configuration
"vigil-restore" for s3:ObjectRestore:Completed to the bucket, keeping its other notification
configurations. Running it twice changes nothing.`,
		Example: `  starter s3 setup-restore-events --bucket my-archive`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := location.ValidateBucket(bucket); err != nil {
				return cli.Usagef("--bucket: %v", err)
			}
			c, err := a.awsClients(cmd.Context())
			if err != nil {
				return err
			}
			rep, err := setup.S3Events(cmd.Context(), c, setup.RestoreEvents(bucket, queue))
			if err != nil {
				return setupFailed(err)
			}
			return a.printSetup(cmd.Context(), rep)
		},
	}
	cmd.Flags().StringVar(&bucket, "bucket", "", "bucket name (required)")
	cmd.Flags().StringVar(&queue, "queue-name", "", "SQS queue name (default "+setup.DefaultQueue+")")
	return cmd
}

func (a *app) s3RestoreCommand() *cobra.Command {
	var in workflows.S3RestoreInput
	var deadline, poll time.Duration
	var wait bool
	var hf hostFlags
	cmd := &cobra.Command{
		Use:   "restore --bucket BUCKET --key KEY [--to DEST]",
		Short: "Restore an archived object, wait for it, then copy or download it",
		Long: `restore starts (or attaches to) the workflow s3restore/<bucket>/<key> (with --version-id,
s3restore/<bucket>/<key>?versionId=<id>): RestoreObject (an object already restored or being
restored is fine), then the ObjectRestore:Completed event or a HeadObject poll, then delivery.
A start that would attach to a running restore asking for another --to, --tier or --days is
refused, naming the difference. Without --to it only restores; --to s3://bucket/key copies
the restored object (server-side), --to file://HOST/abs/path downloads it on that worker host
(file:///abs/path: on the host that answers first, named in the result). The result reports
the restored copy's expiry. --verify full (file:// destinations) hashes the download as it
arrives and, before the rename, re-reads the synced file from disk and compares SHA-256: a
mismatch fails the run (ChecksumMismatch) and removes the partial file. s3:// copies never
touch the worker's disk: S3 checks them, and a multipart copy's completion is checked always.`,
		Example: `  starter s3 restore --bucket my-archive --key db/2026-11-01.dump --days 3 --wait
  starter s3 restore --bucket my-archive --key db/2026-11-01.dump --tier Bulk --to s3://scratch/db.dump`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in.Deadline, in.PollInterval = flowdata.Duration(deadline), flowdata.Duration(poll)
			if err := catalog.ValidateS3Restore(in, catalog.Flag); err != nil {
				return cli.Usagef("%v", err)
			}
			var err error
			if in.HostWait, err = hf.hostWait(); err != nil {
				return err
			}
			ctx := cmd.Context()
			if err := a.checkHosts(ctx, in, hf.allowUnknown); err != nil {
				return err
			}
			aw, err := a.awsClients(ctx)
			if err != nil {
				return err
			}
			if _, err := headObject(ctx, aw, in.Bucket, in.Key, in.VersionID); err != nil {
				return err
			}
			if err := checkDestBucket(ctx, aw, in.Destination); err != nil {
				return err
			}
			return a.startFlowChecked(ctx, attach(workflows.S3RestoreVersionWorkflowID(in.Bucket, in.Key, in.VersionID)), workflows.S3RestoreName, in, wait,
				func(p *commonpb.Payloads) string { return diffRestore(in, p) })
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.Bucket, "bucket", "", "bucket (required)")
	f.StringVar(&in.Key, "key", "", "object key (required)")
	f.StringVar(&in.VersionID, "version-id", "", "object version")
	f.Int32Var(&in.Days, "days", 7, "days the restored copy stays available")
	f.StringVar(&in.Tier, "tier", flowdata.TierStandard, "restore tier: Expedited, Standard or Bulk")
	f.StringVar(&in.Destination, "to", "", "deliver to s3://bucket/key (copy) or file:///abs/path (download); empty restores only")
	f.DurationVar(&deadline, "deadline", workflows.DefaultGlacierDeadline, "fail if the restore is not complete by then"+deadlineMaxHelp)
	f.DurationVar(&poll, "poll-interval", 0, "fixed HeadObject polling interval (default: adapted to the tier"+pollFloorHelp+")")
	f.BoolVar(&wait, "wait", false, "wait for the outcome, showing progress")
	f.StringVar(&in.Verify, "verify", "", "file:// destination: full hashes the bytes as they arrive and re-reads the file from disk before publishing it, comparing SHA-256 "+
		"(default cheap: size and identity); s3:// copies are checked by S3 and the completion check")
	hf.add(cmd, true)
	return cmd
}

// diffRestore names what differs between the running restore's input and
// in ("" when nothing that matters does).
func diffRestore(in workflows.S3RestoreInput, running *commonpb.Payloads) string {
	var r workflows.S3RestoreInput
	if err := converter.GetDefaultDataConverter().FromPayloads(running, &r); err != nil {
		return ""
	}
	return differs([3]string{"--to", r.Destination, in.Destination}, [3]string{"--tier", r.Tier, in.Tier},
		[3]string{"--days", fmt.Sprint(r.Days), fmt.Sprint(in.Days)})
}
