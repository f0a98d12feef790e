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
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/workflows/flowdata"
)

// Outcomes of starting an S3Object run.
const (
	StartedRun     = "started"
	AlreadyRunning = "running"
	AlreadyDone    = "done"
)

// ObjectStarter starts S3Object runs for sweeps.
type ObjectStarter interface {
	// StartObject starts the run of in's object version unless one exists;
	// it answers StartedRun, AlreadyRunning or AlreadyDone.
	StartObject(ctx context.Context, workflowType, taskQueue string, in flowdata.S3ObjectInput) (string, error)
}

// TemporalStarter is the ObjectStarter of a worker: its Temporal client.
type TemporalStarter struct{ Client client.Client }

// S3ObjectStartOptions are the start options of an S3Object run. The ID is
// the object version's (flowdata.S3ObjectWorkflowID). REJECT_DUPLICATE: a
// closed run (completed, failed, dead-lettered) is never followed by a
// second one while the server keeps it (the namespace retention); after
// that a new run finds the object gone and its archive or dead-letter copy
// present and completes without processing. conflict decides what a start
// does while the run is open: USE_EXISTING attaches (the router), FAIL
// makes the start an AlreadyStarted error (the sweep, which counts it).
func S3ObjectStartOptions(taskQueue string, in flowdata.S3ObjectInput, conflict enumspb.WorkflowIdConflictPolicy) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                       flowdata.S3ObjectWorkflowID(in.Object.Bucket, in.Object.Key, in.Object.ETag),
		TaskQueue:                taskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: conflict,
		Memo:                     map[string]any{"source": in.Source},
		StaticSummary:            in.StaticSummary(),
	}
}

// StartObject starts the run, or tells whether the existing one is running
// or closed.
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
	if d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return AlreadyRunning, nil
	}
	return AlreadyDone, nil
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
}

// startConcurrency bounds the starts in flight per sweep page.
const startConcurrency = 8

// SweepPages lists up to MaxPages pages of the incoming prefix and starts
// (or finds) the S3Object run of every stale object. It heartbeats its
// progress after each page and, when retried after a crash, resumes from
// the last heartbeat's token and counts (a page half done is listed
// again: its started runs then count as already running).
func (a *S3Object) SweepPages(ctx context.Context, in SweepInput) (SweepProgress, error) {
	if a.Starter == nil {
		return SweepProgress{}, BadInput("this worker has no Temporal starter for sweeps")
	}
	prog := SweepProgress{Token: in.Token}
	if activity.HasHeartbeatDetails(ctx) {
		var hb SweepProgress
		if err := activity.GetHeartbeatDetails(ctx, &hb); err == nil {
			prog = hb
			activity.GetLogger(ctx).Info("sweep resumes from its last heartbeat", "pages", hb.Counts.Pages, "token", hb.Token)
		}
	}
	size := in.PageSize
	if size <= 0 || size > 1000 {
		size = 1000
	}
	for pages := 0; pages < in.MaxPages && !prog.Done; pages++ {
		req := &s3.ListObjectsV2Input{Bucket: aws.String(in.Bucket), Prefix: aws.String(in.Prefix), MaxKeys: aws.Int32(size)}
		switch {
		case strings.HasPrefix(prog.Token, "t:"):
			req.ContinuationToken = aws.String(prog.Token[2:])
		case strings.HasPrefix(prog.Token, "a:"):
			req.StartAfter = aws.String(prog.Token[2:])
		}
		out, err := a.Client.ListObjectsV2(ctx, req)
		if err != nil {
			return prog, Classify("S3 ListObjectsV2 s3://"+in.Bucket+"/"+in.Prefix, err)
		}
		var stale []flowdata.S3ObjectRef
		var last string
		for _, o := range out.Contents {
			key := aws.ToString(o.Key)
			last = key
			if excluded(key, in.Exclude) {
				continue
			}
			prog.Counts.Listed++
			if o.LastModified != nil && o.LastModified.Before(in.Cutoff) {
				stale = append(stale, flowdata.S3ObjectRef{Bucket: in.Bucket, Key: key, ETag: unquote(aws.ToString(o.ETag)), Size: aws.ToInt64(o.Size)})
			}
		}
		if err := a.startAll(ctx, in, stale, &prog); err != nil {
			return prog, err
		}
		prog.Counts.Pages++
		switch p := excludedPrefix(last, in.Exclude); {
		case p != "":
			// The page ended inside an excluded prefix (e.g. bak/ under
			// incoming/): skip the rest of it instead of listing it.
			prog.Token = "a:" + p + "\U0010FFFF"
		case aws.ToBool(out.IsTruncated):
			prog.Token = "t:" + aws.ToString(out.NextContinuationToken)
		default:
			prog.Token, prog.Done = "", true
		}
		activity.RecordHeartbeat(ctx, prog)
	}
	return prog, nil
}

// startAll starts the runs of a page's stale objects, a few at a time.
func (a *S3Object) startAll(ctx context.Context, in SweepInput, objs []flowdata.S3ObjectRef, prog *SweepProgress) error {
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, startConcurrency)
	var wg sync.WaitGroup
	for _, o := range objs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			res, err := a.Starter.StartObject(ctx, in.WorkflowType, in.TaskQueue, flowdata.S3ObjectInput{Object: o, Pipeline: in.Pipeline, Source: flowdata.SourceSweep})
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
