package workerapp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/worker"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/metrics"
	"github.com/vigilops/vigil/internal/router"
	"github.com/vigilops/vigil/internal/s3bind"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// presignTTL is how long an http processor's presigned GET URL is valid.
const presignTTL = time.Hour

// ownOutputIgnored is the FlowEvents event counting S3 records under a
// binding's archive, dead-letter or copy prefix, which never start a run.
const ownOutputIgnored = "own-output-ignored"

// s3ObjectFlow is S3 reprocessing: the S3Object, S3Sweep and bindings
// workflows, their activities, and the ObjectCreated handler.
func s3ObjectFlow(w worker.Registry, r *router.Router, d *Deps) {
	workflows.Register(w, map[string]any{
		workflows.S3ObjectName:   workflows.S3ObjectWorkflow,
		workflows.S3SweepName:    workflows.S3SweepWorkflow,
		workflows.S3BindingsName: workflows.S3BindingsWorkflow,
	})
	a := &activities.S3Object{Env: d.secretEnv(), HTTP: d.httpClient(), Starter: activities.TemporalStarter{Client: d.Temporal, DataConverter: d.DataConverter}}
	if d.AWS.S3 != nil {
		a.Client = d.AWS.S3
		presigner := s3.NewPresignClient(d.AWS.S3)
		a.Presign = func(ctx context.Context, bucket, key, versionID string) (string, error) {
			in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
			if versionID != "" {
				in.VersionId = aws.String(versionID)
			}
			req, err := presigner.PresignGetObject(ctx, in, s3.WithPresignExpires(presignTTL))
			if err != nil {
				return "", err
			}
			return req.URL, nil
		}
	}
	a.Register(w)
	// Local copies an earlier worker on this host left behind (killed
	// mid-download or mid-command).
	a.StartupCleanDownloads(d.Logger)
	h := &s3ObjectHandler{d: d, bindings: &s3bind.Cache{Client: d.Temporal}}
	r.Register(router.KindS3Event, h.handle)
}

// s3ObjectHandler starts (or attaches to) the S3Object run of every
// ObjectCreated record under a binding.
type s3ObjectHandler struct {
	d        *Deps
	bindings *s3bind.Cache
}

// handle handles one message's records. The message is deleted only when
// every bound record's run was started or found. Records under any
// binding's archive, dead-letter or copy prefix (objects vigil wrote) are
// ignored, counted and logged at debug, whatever the other records match.
// Records under no binding are
// logged (bucket, count, first key) and make the message fail, so it goes
// back to the queue and, after its maximum receives, to the dead-letter
// queue: nothing is dropped silently. Records of events no vigil flow
// handles (ObjectRemoved, ...) are logged and dropped.
func (h *s3ObjectHandler) handle(ctx context.Context, n router.Notification, msg router.MessageInfo) error {
	var errs []error
	var unbound, unhandled []router.S3Record
	for _, rec := range n.S3 {
		switch {
		case strings.HasPrefix(rec.EventName, "ObjectCreated:"):
		case strings.HasPrefix(rec.EventName, "ObjectRestore:Completed"):
			continue // the restore flow's
		default:
			unhandled = append(unhandled, rec)
			continue
		}
		bs, err := h.bindings.Get(ctx)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if s3bind.IsOutput(bs, rec.Bucket, rec.Key) {
			metrics.FlowEvents.WithLabelValues(workflows.S3ObjectFlow, ownOutputIgnored).Inc()
			h.d.Logger.Debug("S3 record under a binding's own output prefix; ignored", "bucket", rec.Bucket, "key", rec.Key, "messageId", msg.MessageID)
			continue
		}
		b, ok := workflows.FindBinding(bs, rec.Bucket, rec.Key)
		if !ok {
			unbound = append(unbound, rec)
			continue
		}
		errs = append(errs, h.start(ctx, rec, b.Pipeline, msg))
	}
	if len(unhandled) > 0 {
		h.d.Logger.Info("S3 records no vigil flow handles; dropped", "count", len(unhandled), "bucket", unhandled[0].Bucket,
			"firstKey", unhandled[0].Key, "event", unhandled[0].EventName, "messageId", msg.MessageID)
	}
	if len(unbound) > 0 {
		h.d.Logger.Warn("S3 ObjectCreated records under no binding; left on the queue for its redrive policy",
			"count", len(unbound), "bucket", unbound[0].Bucket, "firstKey", unbound[0].Key, "messageId", msg.MessageID, "receiveCount", msg.ReceiveCount)
		errs = append(errs, fmt.Errorf("%d S3 record(s) under no binding (first s3://%s/%s)", len(unbound), unbound[0].Bucket, unbound[0].Key))
	}
	return errors.Join(errs...)
}

// start starts the run or attaches to the open one (USE_EXISTING); a
// closed one is not started again (REJECT_DUPLICATE).
func (h *s3ObjectHandler) start(ctx context.Context, rec router.S3Record, p flowdata.Pipeline, msg router.MessageInfo) error {
	in := flowdata.S3ObjectInput{Object: flowdata.S3ObjectRef{Bucket: rec.Bucket, Key: rec.Key, ETag: strings.Trim(rec.ETag, `"`),
		VersionID: rec.VersionID, Size: rec.Size}, Pipeline: p, Source: flowdata.SourceEvent}
	opts := activities.S3ObjectStartOptions(h.d.taskQueue(), in, enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING)
	run, err := h.d.Temporal.ExecuteWorkflow(ctx, opts, workflows.S3ObjectName, in)
	if err != nil {
		return fmt.Errorf("starting %s: %w", opts.ID, err)
	}
	h.d.Logger.Debug("S3 object run started or found", "workflowId", run.GetID(), "runId", run.GetRunID(), "messageId", msg.MessageID)
	return nil
}
