package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// BackupWorkflowID derives a backup run's ID from the name and the
// (scheduled) time, so a duplicate start of one run collapses.
func BackupWorkflowID(name string, at time.Time) string {
	return "backup/" + name + "/" + at.UTC().Format(flowdata.BackupTimeFormat)
}

// backupPlan is where one run's object goes.
type backupPlan struct {
	bucket, dir, key string
	local            bool
	// urlHost is the host a file or dir source's URL names.
	urlHost string
}

// planBackup validates the input and names the object:
// <prefix><name>/<UTC timestamp>.<ext>.
func planBackup(in flowdata.BackupInput, now time.Time) (backupPlan, error) {
	if in.Name == "" || strings.ContainsAny(in.Name, "/\\") {
		return backupPlan{}, activities.BadInput("backup name %q: want a non-empty name without slashes", in.Name)
	}
	src, err := location.Parse(in.Source)
	if err != nil {
		return backupPlan{}, activities.BadInput("source: %v", err)
	}
	tgt, err := location.Parse(in.Target)
	if err != nil || tgt.Scheme != location.S3 {
		return backupPlan{}, activities.BadInput("target %q: want s3://bucket/prefix/", in.Target)
	}
	if in.Keep < 0 || in.MaxAge < 0 {
		return backupPlan{}, activities.BadInput("retention: keep and maxAge must not be negative")
	}
	prefix := tgt.Key
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	ext := "bin"
	if src.Scheme == location.Dir {
		ext = activities.ArchiveExt(in.Compression)
	}
	dir := prefix + in.Name + "/"
	return backupPlan{bucket: tgt.Bucket, dir: dir, key: dir + now.UTC().Format(flowdata.BackupTimeFormat) + "." + ext,
		local: src.Scheme == location.File || src.Scheme == location.Dir, urlHost: src.Host}, nil
}

// BackupWorkflow backs a source up into S3: one streaming upload (SHA-256
// computed on the way, stored in the object's metadata), an optional
// re-read that compares the SHA-256, then latest.json moves to the new
// object, and only then retention deletes old backups (never the newest).
// A file or dir source is read on one host from start to end: the one its
// URL names (file://HOST/path), else in.Host, else whichever worker answers
// (reported in the result); the run waits for that host at most
// in.HostWait (DefaultHostWait), then fails with HostUnavailable. A failed
// or cancelled run aborts its multipart upload and posts a Slack alert.
func BackupWorkflow(ctx workflow.Context, in flowdata.BackupInput) (flowdata.BackupResult, error) {
	st := NewTracker(ctx, BackupFlow, in.Name)
	ctx = WithHostWait(ctx, in.HostWait.D())
	start := workflow.Now(ctx)
	plan, err := planBackup(in, start)
	if err != nil {
		st.Fail(err)
		return flowdata.BackupResult{}, err
	}
	res := flowdata.BackupResult{Key: plan.key, Location: "s3://" + plan.bucket + "/" + plan.key}
	st.Update(func(s *Status) { s.Details = map[string]string{"key": res.Location} })
	fail := func(err error, cleanup func(workflow.Context)) (flowdata.BackupResult, error) {
		st.Fail(err)
		dctx, cancel := workflow.NewDisconnectedContext(ctx)
		defer cancel()
		cleanup(dctx)
		alertBackup(dctx, in, res, err)
		return res, err
	}
	abortUpload := func(dctx workflow.Context) {
		var n int
		if err := workflow.ExecuteActivity(Summarized(workflow.WithActivityOptions(dctx, ShortCallOptions()), "abort unfinished uploads of "+plan.key), activities.BackupAbortUploadsName,
			activities.AbortUploadsInput{Bucket: plan.bucket, Key: plan.key}).Get(dctx, &n); err != nil {
			workflow.GetLogger(ctx).Warn("aborting the upload failed", "key", plan.key, "error", err)
		} else if n > 0 {
			st.Update(func(s *Status) { s.Message = fmt.Sprintf("aborted %d unfinished upload(s) of %s", n, plan.key) })
		}
	}

	st.SetPhase(PhaseUploading)
	var up activities.BackupUploadResult
	upIn := activities.BackupUploadInput{Source: in.Source, Auth: in.Auth, Compression: in.Compression, Bucket: plan.bucket, Key: plan.key,
		PartSize: in.PartSize, Concurrency: in.Concurrency, SSE: in.SSE, KMSKeyID: in.KMSKeyID, StorageClass: in.StorageClass}
	upOpts := TransferOptions()
	// A cancelled run waits for the upload to abort itself.
	upOpts.WaitForCancellation = true
	upOpts.Summary = "upload " + redactSource(in.Source) + " → " + plan.key
	if plan.local {
		host, err := pinnedHost(ctx, plan.urlHost, in.Host)
		if err == nil {
			host, err = PickHost(ctx, host)
		}
		if err != nil {
			return fail(err, func(workflow.Context) {})
		}
		res.Host = host
		st.Update(func(s *Status) { s.Details["host"] = host })
		err = CallOnHost(ctx, st, host, upOpts, activities.BackupUploadName, &up, upIn)
		if err != nil {
			return fail(err, abortUpload)
		}
	} else if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, upOpts), activities.BackupUploadName, upIn).Get(ctx, &up); err != nil {
		return fail(err, abortUpload)
	}
	res.Bytes, res.SHA256 = up.Bytes, up.SHA256
	if up.Seconds > 0 {
		res.BytesPerSecond = float64(up.Bytes) / up.Seconds
	}
	st.Update(func(s *Status) {
		s.BytesDone, s.BytesTotal = up.Bytes, up.Bytes
		s.Details["sha256"] = up.SHA256
	})
	deleteObject := func(dctx workflow.Context) {
		_ = workflow.ExecuteActivity(Summarized(workflow.WithActivityOptions(dctx, ShortCallOptions()), "delete unverified "+plan.key), activities.BackupDeleteName,
			activities.DeleteInput{Bucket: plan.bucket, Key: plan.key}).Get(dctx, nil)
	}
	obj := activities.ObjectRef{Bucket: plan.bucket, Key: plan.key, SHA256: up.SHA256, Size: up.Bytes}
	if in.Verify {
		st.SetPhase(PhaseVerifying)
		if err := workflow.ExecuteActivity(Summarized(workflow.WithActivityOptions(ctx, TransferOptions()), "verify SHA-256 of "+plan.key), activities.BackupVerifyName, obj).Get(ctx, nil); err != nil {
			return fail(err, deleteObject)
		}
		res.Verified = true
	}

	st.SetPhase(PhasePublishing)
	short := workflow.WithActivityOptions(ctx, ShortCallOptions())
	latest := flowdata.BackupLatest{Key: plan.key, SHA256: up.SHA256, Size: up.Bytes, Time: start.UTC(), Source: redactSource(in.Source), Version: activities.Version}
	if err := workflow.ExecuteActivity(Summarized(short, "publish latest.json of "+plan.dir), activities.BackupPublishName, activities.PublishInput{Bucket: plan.bucket, Dir: plan.dir, Latest: latest}).Get(ctx, nil); err != nil {
		// The object is complete and fine; it is not the latest, though.
		return fail(err, func(workflow.Context) {})
	}

	if in.Keep > 0 || in.MaxAge > 0 {
		st.SetPhase(PhasePruning)
		err := workflow.ExecuteActivity(Summarized(short, "prune old backups of "+plan.dir), activities.BackupRetentionName, activities.RetentionInput{Bucket: plan.bucket, Dir: plan.dir,
			Keep: in.Keep, MaxAge: in.MaxAge, Now: start, Newest: plan.key}).Get(ctx, &res.Deleted)
		if err != nil {
			// The backup is done: report the pruning failure, do not fail it.
			st.Update(func(s *Status) { s.LastError = "retention: " + errorText(err) })
			notify(ctx, activities.SlackMessage{WebhookEnv: in.AlertWebhookEnv, Color: activities.SlackWarning,
				Text: fmt.Sprintf("vigil: backup %s succeeded but deleting old backups failed: %s", in.Name, errorText(err))})
		}
		st.Update(func(s *Status) { s.Details["deleted"] = fmt.Sprint(len(res.Deleted)) })
	}
	res.Duration = flowdata.Duration(workflow.Now(ctx).Sub(start))
	if in.NotifySuccess {
		notify(ctx, activities.SlackMessage{WebhookEnv: in.AlertWebhookEnv, Color: activities.SlackGood,
			Text: fmt.Sprintf("vigil: backup %s: %s, %d bytes, sha256 %.12s…, %d old deleted, in %s", in.Name, res.Location, res.Bytes, res.SHA256, len(res.Deleted), res.Duration)})
	}
	st.SetPhase(PhaseDone)
	return res, nil
}

// redactSource drops user info and query from an http source for the
// records (latest.json, alerts, activity summaries); any other location
// is location.Redact'ed. It does not depend on the location parsing,
// which refuses user info.
func redactSource(src string) string {
	if scheme, _, _ := strings.Cut(src, "://"); strings.EqualFold(scheme, location.HTTP) || strings.EqualFold(scheme, location.HTTPS) {
		u := src
		if i := strings.IndexAny(u, "?#"); i >= 0 {
			u = u[:i]
		}
		if scheme, rest, ok := strings.Cut(u, "://"); ok {
			if at := strings.LastIndex(rest, "@"); at >= 0 && at < strings.IndexByte(rest+"/", '/') {
				u = scheme + "://" + rest[at+1:]
			}
		}
		return u
	}
	return location.Redact(src)
}

// alertBackup posts a failed backup to Slack.
func alertBackup(ctx workflow.Context, in flowdata.BackupInput, res flowdata.BackupResult, err error) {
	if temporal.IsCanceledError(err) {
		return
	}
	notify(ctx, activities.SlackMessage{
		WebhookEnv: in.AlertWebhookEnv,
		Text:       fmt.Sprintf("vigil: backup %s failed", in.Name),
		Color:      activities.SlackDanger,
		Title:      fmt.Sprintf("Backup %s failed", in.Name),
		Fields: []activities.SlackField{
			{Title: "Source", Value: redactSource(in.Source), Short: true},
			{Title: "Object", Value: res.Location, Short: true},
			{Title: "Error", Value: errorText(err)},
		},
		Footer: "starter status " + workflow.GetInfo(ctx).WorkflowExecution.ID,
	})
}
