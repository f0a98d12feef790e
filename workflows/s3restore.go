package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// S3RestoreFlow is the VigilFlow value of S3RestoreWorkflow runs.
const S3RestoreFlow = "s3restore"

// S3RestoreSignal carries a flowdata.S3RestoreState from the notification
// router (an s3:ObjectRestore:Completed event) to the workflow.
const S3RestoreSignal = "s3-restore-completed"

// S3RestoreWorkflowID derives the workflow ID from the object.
func S3RestoreWorkflowID(bucket, key string) string { return "s3restore/" + bucket + "/" + key }

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
	// file:///abs/path downloads to the worker host.
	Destination string `json:"destination,omitempty"`
	// PollInterval fixes the HeadObject fallback interval; 0 adapts it.
	PollInterval flowdata.Duration `json:"pollInterval,omitempty"`
	// Deadline for the restore; 0 means 48h.
	Deadline flowdata.Duration `json:"deadline,omitempty"`
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
}

// S3RestoreWorkflow restores an archived object (idempotently), waits for
// the ObjectRestore:Completed signal with a HeadObject polling fallback and
// a deadline, then delivers it and reports the restored copy's expiry.
func S3RestoreWorkflow(ctx workflow.Context, in S3RestoreInput) (S3RestoreResult, error) {
	st := NewTracker(ctx, S3RestoreFlow, in.Bucket)
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
	st.SetPhase(PhaseInitiating)
	var rs flowdata.S3RestoreState
	if err := workflow.ExecuteActivity(short, activities.RestoreObjectName, activities.RestoreInput{
		Bucket: in.Bucket, Key: in.Key, VersionID: in.VersionID, Days: in.Days, Tier: in.Tier}).Get(ctx, &rs); err != nil {
		st.Fail(err)
		return S3RestoreResult{}, err
	}
	size := rs.Size
	err := completionWait{
		st: st, signals: workflow.GetSignalChannel(ctx, S3RestoreSignal),
		plan:     glacierPollPlan(GlacierRetrieveInput{Tier: in.Tier, PollInterval: in.PollInterval}),
		deadline: start.Add(in.Deadline.D()),
		done:     func() bool { return rs.Restored },
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
			if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, SlowPollOptions()), activities.HeadRestoreName,
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
	}.run(ctx)
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
		var fin activities.FinishResult
		if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, TransferOptions()), activities.DeliverObjectName, activities.DeliverObjectInput{
			Bucket: in.Bucket, Key: in.Key, VersionID: in.VersionID, Dest: in.Destination, Size: size}).Get(ctx, &fin); err != nil {
			st.Fail(err)
			return res, err
		}
		res.Location, res.Bytes = fin.Location, fin.Bytes
		st.Update(func(s *Status) { s.BytesDone = fin.Bytes })
	}
	st.SetPhase(PhaseDone)
	return res, nil
}
