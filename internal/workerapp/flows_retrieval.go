package workerapp

import (
	"context"
	"errors"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/worker"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/router"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// retrievalFlow is the Glacier retrieval and the S3 restore: workflows,
// activities, and the notification handlers that signal them.
func retrievalFlow(w worker.Registry, r *router.Router, d *Deps) {
	sinks := &activities.Sinks{S3: d.AWS.S3}
	workflows.Register(w, map[string]any{
		workflows.GlacierRetrieveName: workflows.GlacierRetrieveWorkflow,
		workflows.S3RestoreName:       workflows.S3RestoreWorkflow,
		workflows.GlacierBatchName:    workflows.GlacierBatchWorkflow,
	})
	sinks.Register(w)
	(&activities.Glacier{Client: d.AWS.Glacier, Sinks: sinks}).Register(w)
	(&activities.S3Restore{Client: d.AWS.S3}).Register(w)
	r.Register(router.KindGlacierJob, func(ctx context.Context, n router.Notification, msg router.MessageInfo) error {
		return signalGlacierJob(ctx, d, n.Glacier, msg)
	})
	r.Register(router.KindS3Event, func(ctx context.Context, n router.Notification, msg router.MessageInfo) error {
		return signalRestores(ctx, d, n.S3, msg)
	})
}

// signalGlacierJob signals the workflow named in the job's description.
// A job vigil did not start (no or foreign description) or whose workflow
// is gone is logged and dropped: retrying cannot help.
func signalGlacierJob(ctx context.Context, d *Deps, j *router.GlacierJob, msg router.MessageInfo) error {
	id := j.JobDescription
	if !strings.HasPrefix(id, "glacier/") {
		d.Logger.Info("Glacier notification for a job vigil did not start; dropped", "jobId", j.JobID, "description", id, "messageId", msg.MessageID)
		return nil
	}
	st := flowdata.GlacierJobState{
		JobID: j.JobID, StatusCode: j.StatusCode, StatusMessage: j.StatusMessage, Completed: j.Completed,
		TreeHash: j.SHA256TreeHash, Description: id, Source: "notification", OutputSize: j.ArchiveSizeInBytes,
	}
	if !j.CompletionDate.IsZero() {
		st.CompletionDate = j.CompletionDate.UTC().Format(time.RFC3339)
	}
	switch {
	case j.Action == "InventoryRetrieval":
		st.OutputSize = j.InventorySizeInBytes
	case j.RetrievalByteRange != "":
		if br, err := activities.ParseByteRange(j.RetrievalByteRange); err == nil {
			st.OutputSize = br.Len()
		}
	}
	return signalOrDrop(ctx, d, id, workflows.GlacierJobSignal, st, msg)
}

// signalRestores signals the S3Restore workflow of each restored object:
// the restore of that version (its ID names the version) if one runs,
// otherwise the restore of the key.
func signalRestores(ctx context.Context, d *Deps, recs []router.S3Record, msg router.MessageInfo) error {
	var errs []error
	for _, rec := range recs {
		id, st, ok := restoreSignal(rec)
		if !ok {
			continue
		}
		if rec.VersionID != "" {
			vid := workflows.S3RestoreVersionWorkflowID(rec.Bucket, rec.Key, rec.VersionID)
			err := d.Temporal.SignalWorkflow(ctx, vid, "", workflows.S3RestoreSignal, st)
			var nf *serviceerror.NotFound
			if err == nil {
				d.Logger.Info("notification delivered", "workflowId", vid, "signal", workflows.S3RestoreSignal, "messageId", msg.MessageID)
				continue
			}
			if !errors.As(err, &nf) {
				errs = append(errs, err)
				continue
			}
		}
		errs = append(errs, signalOrDrop(ctx, d, id, workflows.S3RestoreSignal, st, msg))
	}
	return errors.Join(errs...)
}

// restoreSignal is the version-less workflow ID and the S3RestoreSignal payload of an
// ObjectRestore:Completed record; ok is false for other events. The
// payload carries the record's version ID (versioned buckets), so a run
// restoring one version ignores the completion of another.
func restoreSignal(rec router.S3Record) (id string, st flowdata.S3RestoreState, ok bool) {
	if !strings.HasPrefix(rec.EventName, "ObjectRestore:Completed") {
		return "", flowdata.S3RestoreState{}, false
	}
	st = flowdata.S3RestoreState{Bucket: rec.Bucket, Key: rec.Key, VersionID: rec.VersionID, Restored: true, Expiry: rec.RestoreExpiryTime,
		StorageClass: rec.RestoreStorageClass, Size: rec.Size, Source: "notification"}
	return workflows.S3RestoreWorkflowID(rec.Bucket, rec.Key), st, true
}

// signalOrDrop signals a workflow; a workflow that does not exist (or has
// ended) makes the message moot, so it is dropped rather than retried.
func signalOrDrop(ctx context.Context, d *Deps, id, signal string, arg any, msg router.MessageInfo) error {
	err := d.Temporal.SignalWorkflow(ctx, id, "", signal, arg)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		d.Logger.Info("notification for a workflow that is not running; dropped", "workflowId", id, "messageId", msg.MessageID)
		return nil
	}
	if err == nil {
		d.Logger.Info("notification delivered", "workflowId", id, "signal", signal, "messageId", msg.MessageID)
	}
	return err
}
