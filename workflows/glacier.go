package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// GlacierFlow is the VigilFlow value of GlacierRetrieveWorkflow runs.
const GlacierFlow = "glacier"

// GlacierJobSignal carries a flowdata.GlacierJobState from the notification
// router to the workflow named in the job's JobDescription.
const GlacierJobSignal = "glacier-job-completed"

// Defaults of a Glacier retrieval.
const (
	DefaultGlacierDeadline  = 48 * time.Hour
	DefaultGlacierChunkSize = 64 << 20
	DefaultGlacierParallel  = 4
	// GlacierOutputValidity is how long Glacier keeps a job's output.
	GlacierOutputValidity = 24 * time.Hour
	// glacierMaxInitiations bounds re-initiation after expired output.
	glacierMaxInitiations = 3
)

// GlacierWorkflowID derives the workflow ID from what is retrieved, so a
// second start for the same archive attaches to the running retrieval.
func GlacierWorkflowID(vault, archiveID string) string {
	if archiveID == "" {
		return "glacier/" + vault + "/inventory"
	}
	return "glacier/" + vault + "/" + archiveID
}

// GlacierRetrieveInput describes a retrieval.
type GlacierRetrieveInput struct {
	// AccountID defaults to "-" (the credentials' account).
	AccountID string `json:"accountId,omitempty"`
	Vault     string `json:"vault"`
	// ArchiveID to retrieve; empty with Inventory for an inventory.
	ArchiveID string `json:"archiveId,omitempty"`
	Inventory bool   `json:"inventory,omitempty"`
	// Tier is Expedited, Standard (default) or Bulk.
	Tier string `json:"tier,omitempty"`
	// ByteRange "start-end" of the archive (MiB aligned), optional.
	ByteRange string `json:"byteRange,omitempty"`
	// Destination is file:///abs/path (on the worker host) or s3://bucket/key.
	Destination string `json:"destination"`
	// PollInterval fixes the polling fallback interval; 0 adapts it to the
	// tier (first poll when the job could plausibly be done).
	PollInterval flowdata.Duration `json:"pollInterval,omitempty"`
	// Deadline for the job to complete; 0 means 48h.
	Deadline flowdata.Duration `json:"deadline,omitempty"`
	// ChunkSize of download ranges: a power-of-two number of MiB; 0 means
	// 64 MiB.
	ChunkSize int64 `json:"chunkSize,omitempty"`
	// Parallel downloads; 0 means 4.
	Parallel int `json:"parallel,omitempty"`
	// Fsync makes a file destination durable as it goes: every range is
	// synced before it counts as done, and the file before it is published.
	// Without it the kernel writes the file back on its own schedule (as
	// for cp or the AWS CLI) and a reboot before the finish is caught by
	// re-checking the ranges; with it, expect about half the throughput on
	// a typical disk (see BENCHMARKS.md).
	Fsync bool `json:"fsync,omitempty"`
	// SNSTopic for this job's notification; empty uses the vault's.
	SNSTopic string `json:"snsTopic,omitempty"`
	// AlertWebhookEnv, when set, names the worker env var of a Slack
	// webhook that gets output-expiry warnings.
	AlertWebhookEnv string `json:"alertWebhookEnv,omitempty"`
}

// GlacierRetrieveResult describes the delivered output.
type GlacierRetrieveResult struct {
	Location    string            `json:"location"`
	Bytes       int64             `json:"bytes"`
	TreeHash    string            `json:"treeHash"`
	JobID       string            `json:"jobId"`
	Waited      flowdata.Duration `json:"waited"`
	Downloading flowdata.Duration `json:"downloading"`
	Initiations int               `json:"initiations"`
}

// GlacierRetrieveWorkflow initiates a Glacier job (once, even across worker
// crashes), waits for the completion notification with a polling fallback
// and a deadline, then downloads the output in verified ranges to the
// destination. Expired output is retrieved again.
func GlacierRetrieveWorkflow(ctx workflow.Context, in GlacierRetrieveInput) (GlacierRetrieveResult, error) {
	st := NewTracker(ctx, GlacierFlow, in.Vault)
	in = glacierDefaults(in)
	start := workflow.Now(ctx)
	id := workflow.GetInfo(ctx).WorkflowExecution.ID
	job := flowdata.GlacierJob{AccountID: in.AccountID, Vault: in.Vault}
	sig := workflow.GetSignalChannel(ctx, GlacierJobSignal)
	short := workflow.WithActivityOptions(ctx, ShortCallOptions())
	dl := &download{}
	res := GlacierRetrieveResult{}
	for res.Initiations = 1; ; res.Initiations++ {
		st.SetPhase(PhaseInitiating)
		var js flowdata.GlacierJobState
		err := workflow.ExecuteActivity(short, activities.InitiateJobName, activities.InitiateJobInput{
			Job: job, ArchiveID: in.ArchiveID, Tier: in.Tier, ByteRange: in.ByteRange, Description: id, SNSTopic: in.SNSTopic,
		}).Get(ctx, &js)
		if err != nil {
			st.Fail(err)
			return res, err
		}
		job.JobID = js.JobID
		res.JobID = js.JobID
		st.Update(func(s *Status) { s.Details = map[string]string{"jobId": js.JobID, "tier": in.Tier} })

		js, err = waitGlacierJob(ctx, st, sig, job, js, start.Add(in.Deadline.D()), glacierPollPlan(in))
		if err != nil {
			st.Fail(err)
			return res, err
		}
		if !js.Succeeded() {
			err := temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("Glacier job %s %s: %s", js.JobID, js.StatusCode, js.StatusMessage), "GlacierJobFailed", nil)
			st.Fail(err)
			return res, err
		}
		res.Waited = flowdata.Duration(workflow.Now(ctx).Sub(start))
		warnExpiry(ctx, st, in, js)

		dlStart := workflow.Now(ctx)
		fin, err := dl.run(ctx, st, in, job, js)
		res.Downloading += flowdata.Duration(workflow.Now(ctx).Sub(dlStart))
		var appErr *temporal.ApplicationError
		if err != nil && errors.As(err, &appErr) && appErr.Type() == activities.ErrTypeNotFound && res.Initiations < glacierMaxInitiations {
			// The job's output expired (or the job vanished): retrieve again;
			// ranges already delivered are kept.
			st.Update(func(s *Status) { s.Message = "job output expired; initiating a new retrieval" })
			continue
		}
		if err != nil {
			st.Fail(err)
			return res, err
		}
		res.Location, res.Bytes, res.TreeHash = fin.Location, fin.Bytes, fin.TreeHash
		st.SetPhase(PhaseDone)
		st.Update(func(s *Status) { s.Message = "delivered to " + fin.Location })
		return res, nil
	}
}

func glacierDefaults(in GlacierRetrieveInput) GlacierRetrieveInput {
	if in.AccountID == "" {
		in.AccountID = "-"
	}
	if in.Tier == "" {
		in.Tier = flowdata.TierStandard
	}
	if in.Deadline <= 0 {
		in.Deadline = flowdata.Duration(DefaultGlacierDeadline)
	}
	if in.ChunkSize <= 0 {
		in.ChunkSize = DefaultGlacierChunkSize
	}
	if in.Parallel <= 0 {
		in.Parallel = DefaultGlacierParallel
	}
	return in
}

func glacierPollPlan(in GlacierRetrieveInput) pollPlan {
	if in.PollInterval > 0 {
		return pollPlan{in.PollInterval.D(), in.PollInterval.D()}
	}
	switch in.Tier {
	case flowdata.TierExpedited:
		return pollPlan{time.Minute, time.Minute}
	case flowdata.TierBulk:
		return pollPlan{5 * time.Hour, 30 * time.Minute}
	default:
		return pollPlan{3 * time.Hour, 15 * time.Minute}
	}
}

// waitGlacierJob waits for the completion signal, polls on the plan's
// timer as a fallback, and fails at the deadline.
func waitGlacierJob(ctx workflow.Context, st *Tracker, sig workflow.ReceiveChannel, job flowdata.GlacierJob,
	js flowdata.GlacierJobState, deadline time.Time, plan pollPlan) (flowdata.GlacierJobState, error) {
	poll := workflow.WithActivityOptions(ctx, SlowPollOptions())
	polls := 0
	err := completionWait{
		st: st, signals: sig, plan: plan, deadline: deadline,
		done: func() bool { return js.Completed },
		onSignal: func(c workflow.ReceiveChannel) {
			var n flowdata.GlacierJobState
			c.Receive(ctx, &n)
			if n.JobID != job.JobID {
				workflow.GetLogger(ctx).Info("ignoring notification for another job", "jobId", n.JobID)
				return
			}
			js = n
			js.Source = "notification"
			st.Update(func(s *Status) { s.LastPoll = "notified: " + js.StatusCode })
		},
		poll: func() error {
			polls++
			var polled flowdata.GlacierJobState
			if err := workflow.ExecuteActivity(poll, activities.DescribeJobName, job).Get(ctx, &polled); err != nil {
				return err
			}
			js = polled
			st.Update(func(s *Status) {
				s.LastPoll = fmt.Sprintf("%s at %s (poll %d)", polled.StatusCode, workflow.Now(ctx).UTC().Format(time.RFC3339), polls)
			})
			return nil
		},
		expired: func() error {
			return temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("Glacier job %s not complete by the deadline (%d polls)", job.JobID, polls), "DeadlineExceeded", nil)
		},
	}.run(ctx)
	return js, err
}

// warnExpiry warns when the output has little validity left.
func warnExpiry(ctx workflow.Context, st *Tracker, in GlacierRetrieveInput, js flowdata.GlacierJobState) {
	done, err := time.Parse(time.RFC3339, js.CompletionDate)
	if err != nil {
		return
	}
	expires := done.Add(GlacierOutputValidity)
	left := expires.Sub(workflow.Now(ctx))
	st.Update(func(s *Status) { s.Details["outputExpires"] = expires.UTC().Format(time.RFC3339) })
	if left > 4*time.Hour {
		return
	}
	msg := fmt.Sprintf("Glacier job %s output expires in %s (%s)", js.JobID, left.Round(time.Minute), expires.UTC().Format(time.RFC3339))
	workflow.GetLogger(ctx).Warn(msg)
	st.Update(func(s *Status) { s.Message = msg })
	if in.AlertWebhookEnv != "" {
		notify(ctx, activities.SlackMessage{WebhookEnv: in.AlertWebhookEnv, Text: "vigil: " + msg, Color: activities.SlackWarning,
			Title: "Glacier output about to expire", Footer: "starter status " + workflow.GetInfo(ctx).WorkflowExecution.ID})
	}
}
