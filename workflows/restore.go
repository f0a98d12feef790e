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

// RestoreWorkflowID derives a restore run's ID from where it restores
// from and to, and when. Both ends are in their location.IDPart form: an
// S3 source as bucket/key, a destination as its scheme and host (a file's
// base name) and a digest of the full URL, so a URL's query (a presigned
// URL, a token) never lands in an ID. Runs started before this form keep
// their IDs.
func RestoreWorkflowID(from, to string, at time.Time) string {
	return "restore/" + location.IDPart(from) + "->" + location.IDPart(to) + "/" + at.UTC().Format(flowdata.BackupTimeFormat)
}

// RestoreWorkflow restores a backup: it finds the object (latest.json, a
// timestamp, or a key) and the SHA-256 recorded for it, then streams it to
// a file, a directory or an http endpoint, checking the SHA-256 on the way;
// a mismatch fails with the non-retryable ChecksumMismatch and leaves the
// destination as it was. File and dir destinations are written on one host:
// the one their URL names (file://HOST/path), else in.Host, else whichever
// worker answers (reported in the result); the run waits for that host at
// most in.HostWait (DefaultHostWait), then fails with HostUnavailable.
func RestoreWorkflow(ctx workflow.Context, in flowdata.RestoreInput) (flowdata.RestoreResult, error) {
	st := NewTracker(ctx, RestoreFlow, in.From)
	ctx = WithHostWait(ctx, in.HostWait.D())
	start := workflow.Now(ctx)
	var res flowdata.RestoreResult
	fail := func(err error) (flowdata.RestoreResult, error) {
		st.Fail(err)
		if !temporal.IsCanceledError(err) {
			dctx, cancel := workflow.NewDisconnectedContext(ctx)
			defer cancel()
			notify(dctx, activities.SlackMessage{WebhookEnv: in.AlertWebhookEnv, Color: activities.SlackDanger,
				Text:  fmt.Sprintf("vigil: restore of %s to %s failed", in.From, redactSource(in.To)),
				Title: "Restore failed", Fields: []activities.SlackField{{Title: "Error", Value: errorText(err)}},
				Footer: "starter status " + workflow.GetInfo(ctx).WorkflowExecution.ID})
		}
		return res, err
	}
	dest, err := location.Parse(in.To)
	if err != nil {
		return fail(activities.BadInput("destination: %v", err))
	}
	host := in.Host
	if dest.Scheme == location.File || dest.Scheme == location.Dir {
		if host, err = pinnedHost(ctx, dest.Host, in.Host); err != nil {
			return fail(err)
		}
	}
	st.SetPhase(PhaseResolving)
	var obj activities.ObjectRef
	if err := workflow.ExecuteActivity(Summarized(workflow.WithActivityOptions(ctx, ShortCallOptions()), "resolve backup "+redactSource(in.From)), activities.BackupResolveName,
		activities.ResolveInput{From: in.From, At: in.At}).Get(ctx, &obj); err != nil {
		if noBackupOK(ctx, in, err) {
			st.SetPhase(PhaseDone)
			st.Update(func(s *Status) { s.Message = "no backup yet under " + redactSource(in.From) + ": nothing restored" })
			res.NoBackup = true
			return res, nil
		}
		return fail(err)
	}
	res.Key, res.SHA256 = obj.Key, obj.SHA256
	st.SetPhase(PhaseRestoring)
	st.Update(func(s *Status) {
		s.BytesTotal = obj.Size
		s.Details = map[string]string{"key": "s3://" + obj.Bucket + "/" + obj.Key, "sha256": obj.SHA256}
	})
	rin := activities.RestoreStreamInput{Object: obj, To: in.To, Auth: in.Auth, Method: in.Method, Verify: in.Verify}
	var out activities.RestoreStreamResult
	opts := TransferOptions()
	opts.WaitForCancellation = true
	opts.Summary = "restore s3://" + obj.Bucket + "/" + obj.Key + " → " + redactSource(in.To)
	if dest.Scheme == location.File || dest.Scheme == location.Dir {
		host, err := PickHost(ctx, host)
		if err != nil {
			return fail(err)
		}
		res.Host = host
		st.Update(func(s *Status) { s.Details["host"] = host })
		if err := CallOnHost(ctx, st, host, opts, activities.RestoreStreamName, &out, rin); err != nil {
			return fail(err)
		}
	} else if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), activities.RestoreStreamName, rin).Get(ctx, &out); err != nil {
		return fail(err)
	}
	res.Location, res.Bytes = out.Location, out.Bytes
	res.Duration = flowdata.Duration(workflow.Now(ctx).Sub(start))
	st.Update(func(s *Status) { s.BytesDone = out.Bytes })
	st.SetPhase(PhaseDone)
	return res, nil
}

// restoreMissingOKChange is the workflow.GetVersion change ID of a restore
// with MissingOK ending successfully, without an alert, when the name has
// no backup yet (version 1). The version is asked only then.
const restoreMissingOKChange = "restore-missing-ok"

// noBackupOK tells whether err is a NoBackup the input accepts.
func noBackupOK(ctx workflow.Context, in flowdata.RestoreInput, err error) bool {
	var ae *temporal.ApplicationError
	if !in.MissingOK || !errors.As(err, &ae) || ae.Type() != activities.ErrTypeNoBackup {
		return false
	}
	return workflow.GetVersion(ctx, restoreMissingOKChange, workflow.DefaultVersion, 1) >= 1
}
