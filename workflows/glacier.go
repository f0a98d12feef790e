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
	// Destination is file://HOST/abs/path (on that worker host),
	// file:///abs/path (on whichever host the run picks) or s3://bucket/key.
	Destination string `json:"destination"`
	// PollInterval fixes the polling fallback interval; 0 adapts it to the
	// tier (first poll when the job could plausibly be done).
	PollInterval flowdata.Duration `json:"pollInterval,omitempty"`
	// Deadline for the job to complete; 0 means 48h.
	Deadline flowdata.Duration `json:"deadline,omitempty"`
	// ChunkSize of download ranges: a power-of-two number of MiB; 0 means
	// 64 MiB for a file, and for S3 sized from the output (ChunkSizeFor).
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
	// Verify is flowdata.VerifyFull to re-read a file destination from
	// disk and check its tree hash before it is published (see
	// BENCHMARKS.md for the cost); "" checks size, identity and the ranges'
	// hashes as they were written.
	Verify string `json:"verify,omitempty"`
	// SNSTopic for this job's notification; empty uses the vault's.
	SNSTopic string `json:"snsTopic,omitempty"`
	// AlertWebhookEnv, when set, names the worker env var of a Slack
	// webhook that gets output-expiry warnings.
	AlertWebhookEnv string `json:"alertWebhookEnv,omitempty"`
	// Resume is set by a run that continues as new in its wait.
	Resume *GlacierResume `json:"resume,omitempty"`
	// HostWait bounds how long a file destination's host may be gone
	// (0: DefaultHostWait); then the run fails with HostUnavailable.
	HostWait flowdata.Duration `json:"hostWait,omitempty"`
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
	// Host that holds a file destination (the one named in the URL, or
	// the one chosen for file:///path).
	Host string `json:"host,omitempty"`
}

// retrievalChange is the workflow.GetVersion change ID of the retrieval
// flows' production behaviours (version 1): host pinning of file
// destinations, clean-up on failure and cancel, re-initiation only on
// JobOutputExpired, batches of ranges for large outputs, S3 part sizing.
// Runs started by an earlier vigil replay and go on with version 0.
const retrievalChange = "retrieval-production"

// retrievalVersion is the version of new runs.
const retrievalVersion workflow.Version = 1

// prepareEarlyChange is the workflow.GetVersion change ID of preparing a
// file destination before the wait (version 1) rather than after the
// notification: the notification then starts the range downloads at once,
// one activity round trip through the host's task queue sooner, and a
// destination the host cannot write fails the run before the retrieval
// costs anything. Earlier runs replay with DefaultVersion and prepare after
// the wait.
const prepareEarlyChange = "glacier-prepare-early"

// GlacierRetrieveWorkflow initiates a Glacier job (once, even across worker
// crashes), waits for the completion notification with a polling fallback
// and a deadline, then downloads the output in verified ranges to the
// destination. Expired output is retrieved again. A run that fails or is
// cancelled removes what it wrote (partial file, multipart upload) and says
// so in its failure.
func GlacierRetrieveWorkflow(ctx workflow.Context, in GlacierRetrieveInput) (GlacierRetrieveResult, error) {
	st := NewTracker(ctx, GlacierFlow, in.Vault)
	markArchive(ctx, in.ArchiveID)
	ctx = WithHostWait(ctx, in.HostWait.D())
	v := workflow.GetVersion(ctx, retrievalChange, workflow.DefaultVersion, retrievalVersion)
	in.PollInterval, in.Deadline = boundWait(ctx, in.PollInterval, in.Deadline)
	dl := &download{version: v}
	res, err := glacierRetrieve(ctx, st, glacierDefaults(in, v), dl)
	if continuesAsNew(err) {
		return res, err
	}
	if err != nil && v >= 1 && dl.prep != nil {
		err = cleanUp(ctx, st, dl.host, *dl.prep, err)
	}
	if err != nil {
		st.Fail(err)
	}
	res.Host = dl.host
	return res, err
}

func glacierRetrieve(ctx workflow.Context, st *Tracker, in GlacierRetrieveInput, dl *download) (GlacierRetrieveResult, error) {
	start := workflow.Now(ctx)
	id := workflow.GetInfo(ctx).WorkflowExecution.ID
	job := flowdata.GlacierJob{AccountID: in.AccountID, Vault: in.Vault}
	sig := workflow.GetSignalChannel(ctx, GlacierJobSignal)
	short := workflow.WithActivityOptions(ctx, ShortCallOptions())
	res := GlacierRetrieveResult{}
	resume := in.Resume
	carry := waitCarry{}
	first := 1
	if resume != nil {
		start, first, res.Downloading = resume.Started, resume.Initiations, resume.Downloading
		carry = resumeFrom(ctx, resume.WaitResume)
		restoreStatus(st, resume.WaitResume)
	}
	if dl.version >= 1 {
		// Choose the file destination's host now: the status names it
		// while the job runs, and the notification does not wait for it.
		var err error
		if in.Destination, err = dl.pickHost(ctx, st, in.Destination); err != nil {
			return res, err
		}
		if workflow.GetVersion(ctx, prepareEarlyChange, workflow.DefaultVersion, 1) >= 1 {
			if resume != nil {
				dl.prep, dl.early = resume.Prepared, resume.Early
			} else if err := dl.prepareEarly(ctx, st, in); err != nil {
				return res, err
			}
		}
	}
	if resume == nil {
		carry = resumeFrom(ctx, flowdata.WaitResume{})
	}
	for res.Initiations = first; ; res.Initiations++ {
		var js flowdata.GlacierJobState
		if resume != nil && res.Initiations == first {
			// Continued as new in the wait: the job is initiated.
			js = resume.Job
		} else {
			st.SetPhase(PhaseInitiating)
			err := workflow.ExecuteActivity(Summarized(short, "initiate Glacier job for archive "+abbrev(in.ArchiveID)), activities.InitiateJobName, activities.InitiateJobInput{
				Job: job, ArchiveID: in.ArchiveID, Tier: in.Tier, ByteRange: in.ByteRange, Description: id, SNSTopic: in.SNSTopic,
			}).Get(ctx, &js)
			if err != nil {
				return res, err
			}
			st.Update(func(s *Status) {
				s.Details = map[string]string{"jobId": js.JobID, "tier": in.Tier}
				if dl.host != "" {
					s.Details["host"] = dl.host
				}
			})
		}
		job.JobID = js.JobID
		res.JobID = js.JobID

		js, err := waitGlacierJob(ctx, st, sig, job, js, start.Add(in.Deadline.D()), glacierPollPlan(in), in.Tier, &carry)
		if errors.Is(err, errWaitContinue) {
			runs := 0
			if resume != nil {
				runs = resume.Runs
			}
			in.Resume = &GlacierResume{WaitResume: resumeState(st, start, runs, carry), Job: js, Initiations: res.Initiations,
				Downloading: res.Downloading, Prepared: dl.prep, Early: dl.early}
			return res, workflow.NewContinueAsNewError(ctx, GlacierRetrieveName, in)
		}
		carry = waitCarry{bounded: carry.bounded}
		if err != nil {
			return res, err
		}
		if !js.Succeeded() {
			return res, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("Glacier job %s %s: %s", js.JobID, js.StatusCode, js.StatusMessage), "GlacierJobFailed", nil)
		}
		res.Waited = flowdata.Duration(workflow.Now(ctx).Sub(start))
		warnExpiry(ctx, st, in, js)

		dlStart := workflow.Now(ctx)
		fin, err := dl.run(ctx, st, in, job, js)
		res.Downloading += flowdata.Duration(workflow.Now(ctx).Sub(dlStart))
		if err != nil && outputExpired(err, dl.version) && res.Initiations < glacierMaxInitiations {
			// The job's output expired: retrieve again; ranges already
			// delivered are kept.
			st.Update(func(s *Status) { s.Message = "job output expired; initiating a new retrieval" })
			continue
		}
		if err != nil {
			return res, err
		}
		res.Location, res.Bytes, res.TreeHash = fin.Location, fin.Bytes, fin.TreeHash
		st.SetPhase(PhaseDone)
		st.Update(func(s *Status) { s.Message = "delivered to " + fin.Location })
		return res, nil
	}
}

// outputExpired tells whether a download failed because the job's output
// expired. Version 0 took any NotFound for expiry (a NoSuchUpload or
// NoSuchBucket too); from version 1 only GetJobOutput's answer that the job
// is gone (JobOutputExpired) counts.
func outputExpired(err error, v workflow.Version) bool {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) {
		return false
	}
	if v >= 1 {
		return appErr.Type() == activities.ErrTypeJobExpired
	}
	return appErr.Type() == activities.ErrTypeNotFound
}

// glacierDefaults fills in defaults; from version 1 a zero ChunkSize is
// left for ChunkSizeFor to choose from the output's size.
func glacierDefaults(in GlacierRetrieveInput, v workflow.Version) GlacierRetrieveInput {
	if in.AccountID == "" {
		in.AccountID = "-"
	}
	if in.Tier == "" {
		in.Tier = flowdata.TierStandard
	}
	if in.Deadline <= 0 {
		in.Deadline = flowdata.Duration(DefaultGlacierDeadline)
	}
	if in.ChunkSize <= 0 && v == workflow.DefaultVersion {
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
// timer as a fallback, and fails at the deadline. A bounded carry ends the
// wait with errWaitContinue when the run should continue as new, and
// holds the polls and next interval then.
func waitGlacierJob(ctx workflow.Context, st *Tracker, sig workflow.ReceiveChannel, job flowdata.GlacierJob,
	js flowdata.GlacierJobState, deadline time.Time, plan pollPlan, tier string, carry *waitCarry) (flowdata.GlacierJobState, error) {
	poll := Summarized(workflow.WithActivityOptions(ctx, SlowPollOptions()), "poll Glacier job "+abbrev(job.JobID))
	polls := carry.polls
	plan.first = carry.first(plan.first)
	w := &completionWait{
		st: st, what: "Glacier job " + abbrev(job.JobID), typical: glacierTypical(tier), signals: sig, plan: plan, deadline: deadline, bounded: carry.bounded,
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
	}
	err := w.run(ctx)
	carry.polls, carry.next = polls, w.next
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
