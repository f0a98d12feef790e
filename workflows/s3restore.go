package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// S3RestoreFlow is the VigilFlow value of S3RestoreWorkflow runs.
const S3RestoreFlow = "s3restore"

// S3RestoreSignal carries a flowdata.S3RestoreState from the notification
// router (an s3:ObjectRestore:Completed event) to the workflow.
const S3RestoreSignal = "s3-restore-completed"

// S3RestoreWorkflowID derives the workflow ID from the object: a second
// start for the same object attaches to the running restore.
func S3RestoreWorkflowID(bucket, key string) string { return "s3restore/" + bucket + "/" + key }

// S3RestoreVersionWorkflowID is the workflow ID of a restore of one
// version of an object: S3RestoreWorkflowID with "?versionId=V" when a
// version is given, so restores of two versions of a key are two runs.
// The notification router signals this ID first, then the version-less
// one (a restore started without --version-id, or by an older vigil).
func S3RestoreVersionWorkflowID(bucket, key, versionID string) string {
	if versionID == "" {
		return S3RestoreWorkflowID(bucket, key)
	}
	return S3RestoreWorkflowID(bucket, key) + "?versionId=" + versionID
}

// S3RestoreInput describes a restore.
type S3RestoreInput struct {
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	VersionID string `json:"versionId,omitempty"`
	// Days the restored copy stays; 0 means 7.
	Days int32 `json:"days,omitempty"`
	// Tier is Expedited, Standard (default) or Bulk.
	Tier string `json:"tier,omitempty"`
	// Destination: empty restores only; s3://bucket/key copies;
	// file://HOST/abs/path downloads on that worker host, file:///abs/path
	// on the host the run picks.
	Destination string `json:"destination,omitempty"`
	// PollInterval fixes the HeadObject fallback interval; 0 adapts it.
	PollInterval flowdata.Duration `json:"pollInterval,omitempty"`
	// Deadline for the restore; 0 means 48h.
	Deadline flowdata.Duration `json:"deadline,omitempty"`
	// Resume is set by a run that continues as new in its wait.
	Resume *S3RestoreResume `json:"resume,omitempty"`
	// HostWait bounds how long a file destination's host may be gone
	// (0: DefaultHostWait); then the run fails with HostUnavailable.
	HostWait flowdata.Duration `json:"hostWait,omitempty"`
	// Verify is flowdata.VerifyFull to check a file destination's bytes
	// on disk against the bytes received before it is published (see
	// activities.DeliverObjectInput.Verify); "" is VerifyCheap.
	Verify string `json:"verify,omitempty"`
}

// S3RestoreResult reports the restore.
type S3RestoreResult struct {
	// Expiry of the restored copy (zero for objects not archived).
	Expiry   time.Time         `json:"expiry,omitzero"`
	Location string            `json:"location,omitempty"`
	Bytes    int64             `json:"bytes,omitempty"`
	Waited   flowdata.Duration `json:"waited"`
	// NotArchived tells that the object needed no restore.
	NotArchived bool `json:"notArchived,omitempty"`
	// Host that holds a file destination.
	Host string `json:"host,omitempty"`
}

// S3RestoreWorkflow restores an archived object (idempotently), waits for
// the ObjectRestore:Completed signal with a HeadObject polling fallback and
// a deadline, then delivers it and reports the restored copy's expiry.
//
// From version 1 (retrievalChange) a file destination is pinned to its
// host, and a delivery that fails or is cancelled removes its partial file
// or aborts its multipart upload.
func S3RestoreWorkflow(ctx workflow.Context, in S3RestoreInput) (S3RestoreResult, error) {
	st := NewTracker(ctx, S3RestoreFlow, in.Bucket)
	ctx = WithHostWait(ctx, in.HostWait.D())
	v := workflow.GetVersion(ctx, retrievalChange, workflow.DefaultVersion, retrievalVersion)
	in.PollInterval, in.Deadline = boundWait(ctx, in.PollInterval, in.Deadline)
	if in.Days <= 0 {
		in.Days = 7
	}
	if in.Tier == "" {
		in.Tier = flowdata.TierStandard
	}
	if in.Deadline <= 0 {
		in.Deadline = flowdata.Duration(DefaultGlacierDeadline)
	}
	start := workflow.Now(ctx)
	short := workflow.WithActivityOptions(ctx, ShortCallOptions())
	var rs flowdata.S3RestoreState
	obj := "s3://" + in.Bucket + "/" + in.Key
	var carry waitCarry
	if r := in.Resume; r != nil {
		// Continued as new in the wait: the restore is requested.
		start, rs = r.Started, r.State
		carry = resumeFrom(ctx, r.WaitResume)
		restoreStatus(st, r.WaitResume)
	} else {
		st.SetPhase(PhaseInitiating)
		if err := workflow.ExecuteActivity(Summarized(short, "request restore of "+obj), activities.RestoreObjectName, activities.RestoreInput{
			Bucket: in.Bucket, Key: in.Key, VersionID: in.VersionID, Days: in.Days, Tier: in.Tier}).Get(ctx, &rs); err != nil {
			st.Fail(err)
			return S3RestoreResult{}, err
		}
		carry = resumeFrom(ctx, flowdata.WaitResume{})
	}
	size := rs.Size
	plan := glacierPollPlan(GlacierRetrieveInput{Tier: in.Tier, PollInterval: in.PollInterval})
	plan.first = carry.first(plan.first)
	wait := &completionWait{
		st: st, what: "restore of " + obj, typical: s3RestoreTypical(in.Tier), signals: workflow.GetSignalChannel(ctx, S3RestoreSignal),
		plan: plan, deadline: start.Add(in.Deadline.D()), bounded: carry.bounded,
		done: func() bool { return rs.Restored },
		onSignal: func(c workflow.ReceiveChannel) {
			var n flowdata.S3RestoreState
			c.Receive(ctx, &n)
			switch {
			case n.Bucket != in.Bucket || n.Key != in.Key:
				workflow.GetLogger(ctx).Info("ignoring notification for another object", "bucket", n.Bucket, "key", n.Key)
			case in.VersionID != "" && n.VersionID != "" && n.VersionID != in.VersionID:
				// A versioned bucket: the restore of another version of
				// the key completed, not the one this run restores.
				workflow.GetLogger(ctx).Info("ignoring notification for another version", "versionId", n.VersionID, "want", in.VersionID)
			default:
				rs.Restored, rs.Ongoing, rs.Expiry, rs.Source = true, false, n.Expiry, "notification"
			}
		},
		poll: func() error {
			var head flowdata.S3RestoreState
			if err := workflow.ExecuteActivity(Summarized(workflow.WithActivityOptions(ctx, SlowPollOptions()), "poll restore of "+obj), activities.HeadRestoreName,
				activities.HeadRestoreInput{Bucket: in.Bucket, Key: in.Key, VersionID: in.VersionID}).Get(ctx, &head); err != nil {
				return err
			}
			rs, size = head, head.Size
			st.Update(func(s *Status) {
				s.LastPoll = fmt.Sprintf("ongoing=%v at %s", head.Ongoing, workflow.Now(ctx).UTC().Format(time.RFC3339))
			})
			return nil
		},
		expired: func() error {
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("restore of s3://%s/%s not complete by the deadline", in.Bucket, in.Key), "DeadlineExceeded", nil)
		},
	}
	err := wait.run(ctx)
	if errors.Is(err, errWaitContinue) {
		carry.polls += wait.polls
		carry.next = wait.next
		runs := 0
		if in.Resume != nil {
			runs = in.Resume.Runs
		}
		in.Resume = &S3RestoreResume{WaitResume: resumeState(st, start, runs, carry), State: rs}
		return S3RestoreResult{}, workflow.NewContinueAsNewError(ctx, S3RestoreName, in)
	}
	if err != nil {
		st.Fail(err)
		return S3RestoreResult{}, err
	}
	res := S3RestoreResult{Expiry: rs.Expiry, Waited: flowdata.Duration(workflow.Now(ctx).Sub(start)), NotArchived: rs.NotArchived}
	st.Update(func(s *Status) {
		if !rs.Expiry.IsZero() {
			s.Details = map[string]string{"expiry": rs.Expiry.UTC().Format(time.RFC3339)}
		}
	})
	if in.Destination != "" {
		st.SetPhase(PhaseDownloading)
		st.Update(func(s *Status) { s.BytesTotal = size })
		deliver := activities.DeliverObjectInput{Bucket: in.Bucket, Key: in.Key, VersionID: in.VersionID, Dest: in.Destination, Size: size, Verify: in.Verify}
		var fin activities.FinishResult
		var err error
		if v == workflow.DefaultVersion {
			err = workflow.ExecuteActivity(Summarized(workflow.WithActivityOptions(ctx, TransferOptions()), deliverSummary(deliver)), activities.DeliverObjectName, deliver).Get(ctx, &fin)
		} else {
			fin, res.Host, err = deliverPinned(ctx, st, deliver)
		}
		if err != nil {
			st.Fail(err)
			return res, err
		}
		res.Location, res.Bytes = fin.Location, fin.Bytes
		st.Update(func(s *Status) { s.BytesDone = fin.Bytes })
	}
	st.SetPhase(PhaseDone)
	return res, nil
}

// deliverPinned runs DeliverObject on the destination's host (a file
// destination; file:///path picks one), waiting for the host if it is gone,
// and cleans up after a failed or cancelled delivery.
func deliverPinned(ctx workflow.Context, st *Tracker, in activities.DeliverObjectInput) (activities.FinishResult, string, error) {
	var fin activities.FinishResult
	dl := &download{version: retrievalVersion}
	dest, err := dl.pickHost(ctx, st, in.Dest)
	if err != nil {
		return fin, "", err
	}
	in.Dest = dest
	loc, _ := location.Parse(dest)
	opts := TransferOptions()
	opts.WaitForCancellation = true
	opts.HeartbeatTimeout = 20 * time.Second
	opts.Summary = deliverSummary(in)
	if err := dl.call(ctx, st, opts, activities.DeliverObjectName, &fin, in); err != nil {
		return fin, dl.host, cleanUp(ctx, st, dl.host, activities.Prepared{Dest: loc}, err)
	}
	return fin, dl.host, nil
}

// deliverSummary names a delivery in the Web UI's timeline.
func deliverSummary(in activities.DeliverObjectInput) string {
	return "deliver s3://" + in.Bucket + "/" + in.Key + " → " + redactSource(in.Dest)
}
