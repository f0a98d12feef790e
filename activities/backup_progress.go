package activities

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/activity"
)

// Live progress of a backup's upload, a restore's download and a verify.
//
// Each of them is one long activity, so the workflow learns its byte count
// only when it ends. While it runs, its progress is its heartbeat details
// (an UploadProgress): the Temporal server keeps the latest details on the
// pending activity (DescribeWorkflowExecution shows them), and readers of a
// run's status merge them into the status query's answer
// (workflows.MergeHeartbeat; `starter status` and `starter wait` do). This
// costs no history event, unlike a progress signal from the activity to its
// workflow, and the workflow cannot see heartbeat details itself. How fresh
// the server's copy is depends on the worker's heartbeat throttle
// (workerapp.WorkerOptions caps it at a few seconds).
//
// A heartbeat is recorded only when bytes moved since the last one (and
// once at the start, with 0 done, which also replaces a failed attempt's
// figure): a transfer that stalls stops heartbeating, and its heartbeat
// timeout retries it.

// progressBeat heartbeats a transfer's byte count every heartbeatEvery
// while it grows.
type progressBeat struct {
	ctx   context.Context
	done  atomic.Int64
	total int64
	stop  chan struct{}
	wg    sync.WaitGroup
}

// startProgress starts heartbeating (a no-op outside an activity); total
// is the expected size, -1 when unknown. Call Stop when the transfer ends.
func startProgress(ctx context.Context, total int64) *progressBeat {
	p := &progressBeat{ctx: ctx, total: total, stop: make(chan struct{})}
	if !activity.IsActivity(ctx) {
		return p
	}
	p.beat()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		sent := int64(0)
		for {
			select {
			case <-p.stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if n := p.done.Load(); n != sent {
					p.beat()
					sent = n
				}
			}
		}
	}()
	return p
}

// add counts n more bytes done.
func (p *progressBeat) add(n int64) {
	if p != nil {
		p.done.Add(n)
	}
}

// Stop ends the heartbeats.
func (p *progressBeat) Stop() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	p.wg.Wait()
}

func (p *progressBeat) beat() {
	activity.RecordHeartbeat(p.ctx, UploadProgress{Done: p.done.Load(), Total: max(p.total, 0)})
}

// ackedParts is the S3 client an upload goes through: it counts the bytes
// of every part (and single-part PutObject) that S3 acknowledged, so the
// progress is what is stored, not what was read ahead into part buffers.
type ackedParts struct {
	BackupS3API
	progress *progressBeat
}

func (c ackedParts) UploadPart(ctx context.Context, in *s3.UploadPartInput, opts ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	out, err := c.BackupS3API.UploadPart(ctx, in, opts...)
	if err == nil {
		c.progress.add(bodySize(in.Body))
	}
	return out, err
}

func (c ackedParts) PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	out, err := c.BackupS3API.PutObject(ctx, in, opts...)
	if err == nil {
		c.progress.add(bodySize(in.Body))
	}
	return out, err
}

// bodySize is the length of a part body the upload manager made (a
// bytes.Reader or a SectionReader); 0 for anything else.
func bodySize(b any) int64 {
	if s, ok := b.(interface{ Size() int64 }); ok {
		return s.Size()
	}
	return 0
}
