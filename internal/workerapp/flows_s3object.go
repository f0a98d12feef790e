package workerapp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
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

// unboundIgnored is the FlowEvents event counting ObjectCreated records
// under no binding (a bucket-wide notification's other uploads), which are
// acknowledged.
const unboundIgnored = "unbound-ignored"

// unboundRefreshAge: a record under no binding is matched again against
// bindings at most this old, so one bound a moment ago on another worker
// (or by setup-events before its notification) is found.
const unboundRefreshAge = time.Second

// unboundWarnEvery limits the warnings about records under no binding.
const unboundWarnEvery = time.Minute

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
	// refreshAge is unboundRefreshAge when 0 (tests set less).
	refreshAge time.Duration

	mu sync.Mutex
	// lastWarn is when records under no binding were last logged at warn;
	// unwarned counts those ignored since.
	lastWarn time.Time
	unwarned int
}

// handle handles one message's records. The message is deleted only when
// every bound record's run was started or found. Records under any
// binding's archive, dead-letter or copy prefix (objects vigil wrote) are
// ignored, counted and logged at debug, whatever the other records match.
// Records under no binding, even in bindings refreshed for them (at most
// unboundRefreshAge old), are acknowledged too: counted (unbound-ignored)
// and logged at warn at most once a minute (count, bucket, first key): a
// bucket-wide notification sends every other upload of the bucket, and
// none of those should go round the queue to its dead-letter queue. A
// message is redelivered only because a record that should start a run
// failed to. Records of events no vigil flow handles (ObjectRemoved, ...)
// are logged and dropped.
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
			// Bound a moment ago? Look again in a fresh copy.
			if bs, err = h.bindings.GetFresh(ctx, cmp.Or(h.refreshAge, unboundRefreshAge)); err != nil {
				errs = append(errs, err)
				continue
			}
			if b, ok = workflows.FindBinding(bs, rec.Bucket, rec.Key); !ok {
				unbound = append(unbound, rec)
				continue
			}
		}
		errs = append(errs, h.start(ctx, rec, b.Pipeline, msg))
	}
	if len(unhandled) > 0 {
		h.d.Logger.Info("S3 records no vigil flow handles; dropped", "count", len(unhandled), "bucket", unhandled[0].Bucket,
			"firstKey", unhandled[0].Key, "event", unhandled[0].EventName, "messageId", msg.MessageID)
	}
	if len(unbound) > 0 {
		h.ignoreUnbound(unbound, msg)
	}
	return errors.Join(errs...)
}

// ignoreUnbound counts records under no binding and logs them: at warn at
// most once every unboundWarnEvery (with the number ignored since the last
// warning), else at debug.
func (h *s3ObjectHandler) ignoreUnbound(unbound []router.S3Record, msg router.MessageInfo) {
	metrics.FlowEvents.WithLabelValues(workflows.S3ObjectFlow, unboundIgnored).Add(float64(len(unbound)))
	h.mu.Lock()
	h.unwarned += len(unbound)
	n, warn := h.unwarned, time.Since(h.lastWarn) >= unboundWarnEvery
	if warn {
		h.lastWarn, h.unwarned = time.Now(), 0
	}
	h.mu.Unlock()
	log := h.d.Logger.Debug
	if warn {
		log = h.d.Logger.Warn
	}
	log("S3 ObjectCreated records under no binding; acknowledged and ignored (is the bucket's notification wider than its bindings?)",
		"count", len(unbound), "ignoredSinceLastWarning", n, "bucket", unbound[0].Bucket, "firstKey", unbound[0].Key, "messageId", msg.MessageID)
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
