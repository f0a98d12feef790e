package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/vigilops/vigil/workflows/flowdata"
)

// Outcomes of starting an S3Object run.
const (
	StartedRun     = "started"
	AlreadyRunning = "running"
	AlreadyDone    = "done"
)

// ObjectStarter starts S3Object runs for sweeps and records their
// progress.
type ObjectStarter interface {
	// StartObject starts the run of in's object version unless one exists;
	// it answers StartedRun, AlreadyRunning or AlreadyDone. A run that
	// exists but was started by the same sweep (in.SweptBy, before a
	// crash) answers StartedRun.
	StartObject(ctx context.Context, workflowType, taskQueue string, in flowdata.S3ObjectInput) (string, error)
	// Checkpoint records details as the calling activity's heartbeat
	// durably: the server holds them before Checkpoint returns, so they
	// survive the worker process being killed right after (the SDK's own
	// heartbeats are throttled and may still be in memory).
	Checkpoint(ctx context.Context, details any) error
}

// TemporalStarter is the ObjectStarter of a worker: its Temporal client.
type TemporalStarter struct {
	Client client.Client
	// DataConverter decodes memos the way Client encodes them (with the
	// payload codec); nil is the SDK's default.
	DataConverter converter.DataConverter
}

// sweptByMemo is the memo key naming the sweep that started a run.
const sweptByMemo = "sweptBy"

// S3ObjectStartOptions are the start options of an S3Object run. The ID is
// the object version's (flowdata.S3ObjectWorkflowID). REJECT_DUPLICATE: a
// closed run (completed, failed, dead-lettered) is never followed by a
// second one while the server keeps it (the namespace retention); after
// that a new run finds the object gone and its archive or dead-letter copy
// present and completes without processing. conflict decides what a start
// does while the run is open: USE_EXISTING attaches (the router), FAIL
// makes the start an AlreadyStarted error (the sweep, which counts it).
// The run goes to its pipeline's taskQueue when it names one, else to
// taskQueue.
func S3ObjectStartOptions(taskQueue string, in flowdata.S3ObjectInput, conflict enumspb.WorkflowIdConflictPolicy) client.StartWorkflowOptions {
	if q := in.RunTaskQueue(); q != "" {
		taskQueue = q
	}
	memo := map[string]any{"source": in.Source}
	if in.SweptBy != "" {
		memo[sweptByMemo] = in.SweptBy
	}
	return client.StartWorkflowOptions{
		ID:                       flowdata.S3ObjectWorkflowID(in.Object.Bucket, in.Object.Key, in.Object.ETag),
		TaskQueue:                taskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: conflict,
		Memo:                     memo,
		StaticSummary:            in.StaticSummary(),
		StaticDetails:            flowdata.StaticDetails(in),
	}
}

// StartObject starts the run, or tells whether the existing one is running
// or closed (or was started by this same sweep before a crash).
func (s TemporalStarter) StartObject(ctx context.Context, workflowType, taskQueue string, in flowdata.S3ObjectInput) (string, error) {
	opts := S3ObjectStartOptions(taskQueue, in, enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL)
	opts.WorkflowExecutionErrorWhenAlreadyStarted = true
	_, err := s.Client.ExecuteWorkflow(ctx, opts, workflowType, in)
	var dup *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case err == nil:
		return StartedRun, nil
	case !errors.As(err, &dup):
		return "", err
	}
	d, err := s.Client.DescribeWorkflowExecution(ctx, opts.ID, "")
	if err != nil {
		return "", err
	}
	info := d.GetWorkflowExecutionInfo()
	if in.SweptBy != "" && s.sweptBy(info.GetMemo().GetFields()[sweptByMemo]) == in.SweptBy {
		return StartedRun, nil
	}
	if info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return AlreadyRunning, nil
	}
	return AlreadyDone, nil
}

// sweptBy decodes a run's sweptBy memo ("" when absent or unreadable).
func (s TemporalStarter) sweptBy(p *commonpb.Payload) string {
	if p == nil {
		return ""
	}
	dc := s.DataConverter
	if dc == nil {
		dc = converter.GetDefaultDataConverter()
	}
	var v string
	if err := dc.FromPayload(p, &v); err != nil {
		return ""
	}
	return v
}

// Checkpoint records details as the calling activity's heartbeat with a
// direct call to the server.
func (s TemporalStarter) Checkpoint(ctx context.Context, details any) error {
	return s.Client.RecordActivityHeartbeat(ctx, activity.GetInfo(ctx).TaskToken, details)
}

// SweepInput is one sweep activity: a bounded number of listing pages.
type SweepInput struct {
	Bucket string `json:"bucket"`
	Prefix string `json:"prefix"`
	// Exclude lists prefixes (under Prefix) never processed: the
	// pipeline's archive and dead-letter locations.
	Exclude []string `json:"exclude,omitempty"`
	// Cutoff: objects last modified before it are stale.
	Cutoff   time.Time         `json:"cutoff"`
	Pipeline flowdata.Pipeline `json:"pipeline"`
	// Token resumes the listing (from a SweepProgress); empty starts it.
	Token string `json:"token,omitempty"`
	// MaxPages bounds this activity; PageSize is ListObjectsV2's MaxKeys.
	MaxPages int   `json:"maxPages"`
	PageSize int32 `json:"pageSize,omitempty"`
	// WorkflowType and TaskQueue of the S3Object runs to start.
	WorkflowType string `json:"workflowType"`
	TaskQueue    string `json:"taskQueue"`
}

// SweepProgress is the heartbeat detail and the result of a sweep
// activity: where the listing stands and what it counted so far.
type SweepProgress struct {
	// Token is "t:<continuation token>" or "a:<start-after key>"; empty
	// with Done set when the listing is complete.
	Token  string                 `json:"token,omitempty"`
	Done   bool                   `json:"done"`
	Counts flowdata.S3SweepCounts `json:"counts"`
	// StartedKeys names up to 10 objects the sweep started (for logs and
	// the Slack summary).
	StartedKeys []string `json:"startedKeys,omitempty"`
	// Pending is the listed page whose runs were being started when the
	// heartbeat was taken (Counts do not include it yet). A retry starts
	// exactly these objects rather than listing the page again, which
	// would no longer show the ones the lost attempt's runs had
	// already archived.
	Pending *SweepPage `json:"pending,omitempty"`
}

// SweepPage is one listed page: its stale objects and where the listing
// goes on.
type SweepPage struct {
	Stale []flowdata.S3ObjectRef `json:"stale,omitempty"`
	// Listed counts the page's objects outside the excluded prefixes.
	Listed int64  `json:"listed"`
	Next   string `json:"next,omitempty"`
	Done   bool   `json:"done,omitempty"`
}

// startConcurrency bounds the starts in flight per sweep page.
const startConcurrency = 8

// SweepPages lists up to MaxPages pages of the incoming prefix and starts
// (or finds) the S3Object run of every stale object. Before it starts a
// page's runs it checkpoints the page (a heartbeat the server holds
// before any run starts: Starter.Checkpoint), and it checkpoints its
// progress after each page; a retry after a crash resumes from the last heartbeat:
// it finishes the pending page from its recorded objects, counting the
// runs the lost attempt started as started (their memo names this
// sweep), then lists on from the page's continuation token.
func (a *S3Object) SweepPages(ctx context.Context, in SweepInput) (SweepProgress, error) {
	if a.Starter == nil {
		return SweepProgress{}, BadInput("this worker has no Temporal starter for sweeps")
	}
	prog := SweepProgress{Token: in.Token}
	if activity.HasHeartbeatDetails(ctx) {
		var hb SweepProgress
		if err := activity.GetHeartbeatDetails(ctx, &hb); err == nil {
			prog = hb
			activity.GetLogger(ctx).Info("sweep resumes from its last heartbeat", "pages", hb.Counts.Pages, "token", hb.Token, "pendingObjects", pendingLen(hb.Pending))
		}
	}
	info := activity.GetInfo(ctx)
	sweptBy := info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID
	for pages := 0; pages < in.MaxPages && !prog.Done; pages++ {
		if prog.Pending == nil {
			page, err := a.listPage(ctx, in, prog.Token)
			if err != nil {
				return prog, err
			}
			prog.Pending = page
			if len(page.Stale) > 0 {
				if err := a.Starter.Checkpoint(ctx, prog); err != nil {
					return prog, fmt.Errorf("recording the sweep's page before starting its runs: %w", err)
				}
			}
		}
		page := prog.Pending
		if err := a.startAll(ctx, in, sweptBy, page.Stale, &prog); err != nil {
			return prog, err
		}
		prog.Counts.Listed += page.Listed
		prog.Counts.Pages++
		prog.Token, prog.Done, prog.Pending = page.Next, page.Done, nil
		if err := a.Starter.Checkpoint(ctx, prog); err != nil {
			return prog, fmt.Errorf("recording the sweep's progress: %w", err)
		}
	}
	return prog, nil
}

// listPage lists one page from token and picks its stale objects.
func (a *S3Object) listPage(ctx context.Context, in SweepInput, token string) (*SweepPage, error) {
	size := in.PageSize
	if size <= 0 || size > 1000 {
		size = 1000
	}
	req := &s3.ListObjectsV2Input{Bucket: aws.String(in.Bucket), Prefix: aws.String(in.Prefix), MaxKeys: aws.Int32(size)}
	switch {
	case strings.HasPrefix(token, "t:"):
		req.ContinuationToken = aws.String(token[2:])
	case strings.HasPrefix(token, "a:"):
		req.StartAfter = aws.String(token[2:])
	}
	out, err := a.Client.ListObjectsV2(ctx, req)
	if err != nil {
		return nil, Classify("S3 ListObjectsV2 s3://"+in.Bucket+"/"+in.Prefix, err)
	}
	page := &SweepPage{}
	var last string
	for _, o := range out.Contents {
		key := aws.ToString(o.Key)
		last = key
		if excluded(key, in.Exclude) {
			continue
		}
		page.Listed++
		if o.LastModified != nil && o.LastModified.Before(in.Cutoff) {
			page.Stale = append(page.Stale, flowdata.S3ObjectRef{Bucket: in.Bucket, Key: key, ETag: unquote(aws.ToString(o.ETag)), Size: aws.ToInt64(o.Size)})
		}
	}
	switch p := excludedPrefix(last, in.Exclude); {
	case p != "":
		// The page ended inside an excluded prefix (e.g. bak/ under
		// incoming/): skip the rest of it instead of listing it.
		page.Next = "a:" + p + "\U0010FFFF"
	case aws.ToBool(out.IsTruncated):
		page.Next = "t:" + aws.ToString(out.NextContinuationToken)
	default:
		page.Done = true
	}
	return page, nil
}

func pendingLen(p *SweepPage) int {
	if p == nil {
		return 0
	}
	return len(p.Stale)
}

// startAll starts the runs of a page's stale objects, a few at a time.
func (a *S3Object) startAll(ctx context.Context, in SweepInput, sweptBy string, objs []flowdata.S3ObjectRef, prog *SweepProgress) error {
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, startConcurrency)
	var wg sync.WaitGroup
	for _, o := range objs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			res, err := a.Starter.StartObject(ctx, in.WorkflowType, in.TaskQueue, flowdata.S3ObjectInput{Object: o, Pipeline: in.Pipeline, Source: flowdata.SourceSweep, SweptBy: sweptBy})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("starting the run of s3://%s/%s: %w", o.Bucket, o.Key, err)
				}
				return
			}
			prog.Counts.Found++
			switch res {
			case StartedRun:
				prog.Counts.Started++
				if len(prog.StartedKeys) < 10 {
					prog.StartedKeys = append(prog.StartedKeys, o.Key)
				}
			case AlreadyRunning:
				prog.Counts.AlreadyRunning++
			default:
				prog.Counts.AlreadyDone++
			}
		})
	}
	wg.Wait()
	return firstErr
}

func excluded(key string, prefixes []string) bool { return excludedPrefix(key, prefixes) != "" }

func excludedPrefix(key string, prefixes []string) string {
	if key == "" {
		return ""
	}
	for _, p := range prefixes {
		if p != "" && strings.HasPrefix(key, p) {
			return p
		}
	}
	return ""
}
