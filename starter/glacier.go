package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	gtypes "github.com/aws/aws-sdk-go-v2/service/glacier/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"

	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/catalog"
	"github.com/vigilops/vigil/internal/cli"
	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/internal/setup"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// glacierCommands is `starter glacier ...`.
func (a *app) glacierCommands() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "glacier",
		Short: "Retrieve Glacier archives and inventories durably",
		Long: `Glacier retrievals take hours. 'retrieve' starts a workflow that initiates the job once,
waits for the completion notification (SNS → SQS → the worker's router) with a polling
fallback and a deadline, then downloads the output in verified ranges.
Run 'setup' once per vault so notifications reach the worker.`,
		Example: `  starter glacier setup --vault my-vault
  starter glacier retrieve --vault my-vault --inventory --to file:///srv/inventory.json --wait`,
	}
	cmd.AddCommand(a.glacierSetupCommand(), a.glacierRetrieveCommand())
	return cmd
}

func (a *app) glacierSetupCommand() *cobra.Command {
	var o setup.GlacierOptions
	cmd := &cobra.Command{
		Use:   "setup --vault VAULT",
		Short: "Create the SNS topic, SQS queue, policy, subscription and vault notifications (idempotent)",
		Long: `setup makes a vault's job completions reach vigil: an SNS topic, the notification queue
(default vigil-notifications, with a dead-letter queue), a queue policy that lets that topic
(only) send to it, the subscription, and the vault's notification configuration for
ArchiveRetrievalCompleted and InventoryRetrievalCompleted. Each line says what was created,
updated or found; running it twice changes nothing. The queue is recorded in Temporal so a
running worker starts consuming it without a restart.`,
		Example: `  starter glacier setup --vault my-vault
  starter glacier setup --vault my-vault --topic-name ops-glacier --queue-name ops-notifications`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkVaultName(o.Vault); err != nil {
				return err
			}
			c, err := a.awsClients(cmd.Context())
			if err != nil {
				return err
			}
			rep, err := setup.Glacier(cmd.Context(), c, o)
			if err != nil {
				return setupFailed(err)
			}
			return a.printSetup(cmd.Context(), rep)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Vault, "vault", "", "vault name (required)")
	f.StringVar(&o.TopicName, "topic-name", "", "SNS topic name (default vigil-glacier-<vault>)")
	f.StringVar(&o.QueueName, "queue-name", "", "SQS queue name (default "+setup.DefaultQueue+")")
	return cmd
}

type retrieveOptions struct {
	in        workflows.GlacierRetrieveInput
	chunkMiB  int64
	wait      bool
	deadline  time.Duration
	pollEvery time.Duration
}

func (a *app) glacierRetrieveCommand() *cobra.Command {
	var o retrieveOptions
	var hf hostFlags
	cmd := &cobra.Command{
		Use:   "retrieve --vault VAULT (--archive-id ID | --inventory) --to DEST",
		Short: "Retrieve an archive or a vault inventory to a file or an S3 object",
		Long: `retrieve starts (or attaches to) the retrieval workflow glacier/<vault>/<archive-id|inventory>:
a second retrieve of the same archive joins the running one instead of paying for a second job
(one asking for another --to, --tier or --byte-range is refused, naming the difference).
DEST is file://HOST/abs/path (written on the worker started with --host HOST; the run waits
for that host if it is down), file:///abs/path (on whichever worker host answers first: the
result and 'starter status' name it) or s3://bucket/key.
With --wait it shows the phase, time waited and bytes, and exits with the workflow's outcome;
Ctrl-C detaches without cancelling.`,
		Example: `  starter glacier retrieve --vault my-vault --archive-id 'kKB7ymWJ...' --to file:///srv/restore/db.tar --wait
  starter glacier retrieve --vault my-vault --inventory --tier Expedited --to s3://ops-inventories/my-vault.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			var err error
			if o.in.HostWait, err = hf.hostWait(); err != nil {
				return err
			}
			ctx := cmd.Context()
			if err := a.checkHosts(ctx, o.in, hf.allowUnknown); err != nil {
				return err
			}
			aw, err := a.awsClients(ctx)
			if err != nil {
				return err
			}
			if err := checkVault(ctx, aw, o.in.Vault); err != nil {
				return err
			}
			if err := checkDestBucket(ctx, aw, o.in.Destination); err != nil {
				return err
			}
			id, err := a.glacierRunID(ctx, o.in.Vault, o.in.ArchiveID)
			if err != nil {
				return err
			}
			return a.startFlowChecked(ctx, attach(id), workflows.GlacierRetrieveName, o.in, o.wait,
				func(p *commonpb.Payloads) string { return diffGlacier(o.in, p) })
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.in.Vault, "vault", "", "vault name (required)")
	f.StringVar(&o.in.ArchiveID, "archive-id", "", "archive to retrieve")
	f.BoolVar(&o.in.Inventory, "inventory", false, "retrieve the vault's inventory (JSON) instead of an archive")
	f.StringVar(&o.in.Tier, "tier", flowdata.TierStandard, "retrieval tier: Expedited (1-5 min), Standard (3-5 h) or Bulk (5-12 h)")
	f.StringVar(&o.in.ByteRange, "byte-range", "", "part of the archive, start-end in bytes (MiB aligned)")
	f.StringVar(&o.in.Destination, "to", "", "destination: file:///abs/path or s3://bucket/key (required)")
	f.DurationVar(&o.deadline, "deadline", workflows.DefaultGlacierDeadline, "fail if the job is not complete by then"+deadlineMaxHelp)
	f.DurationVar(&o.pollEvery, "poll-interval", 0, "fixed polling-fallback interval (default: adapted to the tier"+pollFloorHelp+")")
	f.Int64Var(&o.chunkMiB, "chunk-size", 0, "download range size in MiB, a power of two (default 64 for a file; for S3 sized to fit 10,000 parts of at least 8 MiB)")
	f.IntVar(&o.in.Parallel, "parallel", workflows.DefaultGlacierParallel, "ranges downloaded at once")
	f.BoolVar(&o.in.Fsync, "fsync", false, "file destination: sync every range and the finished file to disk before counting them done (slower; see BENCHMARKS.md)")
	f.StringVar(&o.in.Verify, "verify", "", "file destination: full re-reads the finished file from disk and checks its tree hash before publishing it (default cheap: size, identity and each range's hash as written; see BENCHMARKS.md)")
	f.StringVar(&o.in.SNSTopic, "sns-topic", "", "SNS topic ARN for this job's notification (default: the vault's)")
	f.StringVar(&o.in.AlertWebhookEnv, "alert-webhook-env", "", "worker env var holding a Slack webhook URL for expiry warnings")
	f.BoolVar(&o.wait, "wait", false, "wait for the outcome, showing progress")
	hf.add(cmd, true)
	return cmd
}

// validate checks the flags with catalog.PrepareGlacierRetrieve, as a
// schedule's glacier input is checked, and fills the input from them.
func (o *retrieveOptions) validate() error {
	o.in.Deadline, o.in.PollInterval = flowdata.Duration(o.deadline), flowdata.Duration(o.pollEvery)
	if err := catalog.PrepareGlacierRetrieve(&o.in, o.chunkMiB, catalog.Flag); err != nil {
		return cli.Usagef("%v", err)
	}
	return nil
}

// checkVault turns a missing vault into a usage error.
func checkVault(ctx context.Context, c *awsconf.Clients, vault string) error {
	_, err := c.Glacier.DescribeVault(ctx, &glacier.DescribeVaultInput{AccountId: aws.String("-"), VaultName: aws.String(vault)})
	var nf *gtypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		return cli.NotFound(fmt.Errorf("no such vault %q", vault))
	}
	if err != nil {
		return fmt.Errorf("checking vault %s: %w", vault, err)
	}
	return nil
}

// checkDestBucket makes sure an s3:// destination's bucket exists.
func checkDestBucket(ctx context.Context, c *awsconf.Clients, dest string) error {
	loc, err := location.Parse(dest)
	if err != nil || loc.Scheme != location.S3 {
		return nil
	}
	_, err = c.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(loc.Bucket)})
	if cli.IsNotFound(err) {
		return cli.NotFound(fmt.Errorf("no such destination bucket %q", loc.Bucket))
	}
	if err != nil {
		return fmt.Errorf("checking destination bucket %q: %w", loc.Bucket, err)
	}
	return nil
}

// retrieveInputs are the inputs of a retrieval that a second start must
// ask for the same to attach to it.
func retrieveInputs(in workflows.GlacierRetrieveInput) [3]string {
	tier := in.Tier
	if tier == "" {
		tier = flowdata.TierStandard
	}
	return [3]string{in.Destination, tier, in.ByteRange}
}

// diffGlacier names what differs between the running retrieval's input and
// in ("" when nothing that matters does).
func diffGlacier(in workflows.GlacierRetrieveInput, running *commonpb.Payloads) string {
	var r workflows.GlacierRetrieveInput
	if err := converter.GetDefaultDataConverter().FromPayloads(running, &r); err != nil {
		return ""
	}
	have, want := retrieveInputs(r), retrieveInputs(in)
	return differs([3]string{"--to", have[0], want[0]}, [3]string{"--tier", have[1], want[1]}, [3]string{"--byte-range", have[2], want[2]})
}

// checkVaultName checks --vault (catalog.CheckVaultName).
func checkVaultName(v string) error {
	if err := catalog.CheckVaultName(v, catalog.Flag); err != nil {
		return cli.Usagef("%v", err)
	}
	return nil
}

// glacierRunID is the workflow ID of a retrieval: the ID under which one
// for the same archive runs if a release before readable IDs started it
// (workflows.GlacierLegacyWorkflowID), otherwise workflows.GlacierWorkflowID,
// so a second start attaches to the open run across an upgrade.
func (a *app) glacierRunID(ctx context.Context, vault, archiveID string) (string, error) {
	id := workflows.GlacierWorkflowID(vault, archiveID)
	legacy := workflows.GlacierLegacyWorkflowID(vault, archiveID)
	if legacy == id {
		return id, nil
	}
	c, err := a.connect(ctx)
	if err != nil {
		return "", err
	}
	defer c.Close()
	d, err := c.DescribeWorkflowExecution(ctx, legacy, "")
	if err == nil && d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return legacy, nil
	}
	return id, nil
}
