package workflows

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/workflows/flowdata"
)

const mib = 1 << 20

// glacierFake scripts the Glacier activities of one test.
type glacierFake struct {
	mu         sync.Mutex
	initiated  int
	polls      int
	downloads  map[int]int // range index → attempts
	failRange  map[int]error
	completeAt int // DescribeJob reports completion from this poll on (0: never)
	state      flowdata.GlacierJobState
	lost       []int // FinishDestination reports these ranges lost, once
	finishes   int
	aborted    []activities.Prepared
	queues     map[string]map[string]bool // activity → task queues it ran on
	rangeDelay time.Duration              // each DownloadRange takes this long
	order      []string                   // InitiateJob and PrepareDestination calls, in order
	prepareErr error                      // PrepareDestination fails with it
	finishIns  []activities.FinishInput   // FinishDestination inputs, in order
}

// ranOn records the task queue an activity ran on.
func (f *glacierFake) ranOn(ctx context.Context, name string) {
	if f.queues[name] == nil {
		f.queues[name] = map[string]bool{}
	}
	f.queues[name][activity.GetInfo(ctx).TaskQueue] = true
}

func newGlacierEnv(t *testing.T, f *glacierFake) *testsuite.TestWorkflowEnvironment {
	env := newBatchEnv(t)
	(&activities.Glacier{}).Register(env)
	(&activities.Sinks{}).Register(env)
	(&activities.Host{Name: "hostA"}).Register(env)
	env.RegisterWorkflowWithOptions(GlacierBatchWorkflow, workflow.RegisterOptions{Name: GlacierBatchName})
	var ga *activities.Glacier
	var sinks *activities.Sinks
	f.downloads = map[int]int{}
	f.queues = map[string]map[string]bool{}
	env.OnActivity(activities.AbortDestinationName, mock.Anything, mock.Anything).Return(func(ctx context.Context, p activities.Prepared) (activities.AbortResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.ranOn(ctx, activities.AbortDestinationName)
		f.aborted = append(f.aborted, p)
		return activities.AbortResult{Removed: []string{"partial file " + p.PartialPath()}}, nil
	}).Maybe()
	env.OnActivity(ga.InitiateJob, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.InitiateJobInput) (flowdata.GlacierJobState, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.initiated++
		f.order = append(f.order, activities.InitiateJobName)
		if in.Description != "glacier/v/a1" {
			t.Errorf("JobDescription = %q, want the workflow ID", in.Description)
		}
		return flowdata.GlacierJobState{JobID: "job-" + string(rune('0'+f.initiated)), StatusCode: "InProgress"}, nil
	}).Maybe()
	env.OnActivity(ga.DescribeJob, mock.Anything, mock.Anything).Return(func(_ context.Context, j flowdata.GlacierJob) (flowdata.GlacierJobState, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.polls++
		if f.completeAt > 0 && f.polls >= f.completeAt {
			s := f.state
			s.JobID = j.JobID
			return s, nil
		}
		return flowdata.GlacierJobState{JobID: j.JobID, StatusCode: "InProgress"}, nil
	}).Maybe()
	env.OnActivity(sinks.PrepareDestination, mock.Anything, mock.Anything).Return(func(ctx context.Context, in activities.PrepareInput) (activities.Prepared, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.ranOn(ctx, activities.PrepareDestinationName)
		f.order = append(f.order, activities.PrepareDestinationName)
		if f.prepareErr != nil {
			return activities.Prepared{}, f.prepareErr
		}
		dest, err := location.Parse(in.Dest)
		return activities.Prepared{Dest: dest, Size: in.Size}, err
	}).Maybe()
	ranges := env.OnActivity(ga.DownloadRange, mock.Anything, mock.Anything).Return(func(ctx context.Context, in activities.DownloadRangeInput) (activities.RangePart, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.ranOn(ctx, activities.DownloadRangeName)
		f.downloads[in.Index]++
		if err := f.failRange[in.Index]; err != nil {
			delete(f.failRange, in.Index)
			return activities.RangePart{}, err
		}
		return activities.RangePart{Index: in.Index, Bytes: in.Range.Len(), TreeHash: "h"}, nil
	})
	if f.rangeDelay > 0 {
		ranges.After(f.rangeDelay)
	}
	ranges.Maybe()
	env.OnActivity(sinks.FinishDestination, mock.Anything, mock.Anything).Return(func(ctx context.Context, in activities.FinishInput) (activities.FinishResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.ranOn(ctx, activities.FinishDestinationName)
		f.finishes++
		f.finishIns = append(f.finishIns, in)
		if lost := f.lost; lost != nil {
			f.lost = nil
			return activities.FinishResult{}, temporal.NewApplicationErrorWithOptions("lost", activities.ErrTypeRangesLost,
				temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{lost}})
		}
		var n int64
		for _, p := range in.Parts {
			n += p.Bytes
		}
		return activities.FinishResult{Location: in.Prepared.Dest.String(), Bytes: n, TreeHash: in.TreeHash}, nil
	}).Maybe()
	return env
}

func succeeded(size int64) flowdata.GlacierJobState {
	return flowdata.GlacierJobState{StatusCode: "Succeeded", Completed: true, OutputSize: size, TreeHash: "abc",
		CompletionDate: "2026-11-24T00:00:00Z"}
}

func glacierInput() GlacierRetrieveInput {
	return GlacierRetrieveInput{Vault: "v", ArchiveID: "a1", Destination: "file:///out", ChunkSize: 4 * mib, Parallel: 2}
}

func startGlacier(env *testsuite.TestWorkflowEnvironment, in GlacierRetrieveInput) {
	env.SetStartWorkflowOptions(clientStartOptions(GlacierWorkflowID(in.Vault, in.ArchiveID)))
	env.ExecuteWorkflow(GlacierRetrieveWorkflow, in)
}

func TestGlacierNotificationStartsDownload(t *testing.T) {
	f := &glacierFake{}
	env := newGlacierEnv(t, f)
	done := succeeded(10 * mib)
	done.JobID = "job-1"
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(GlacierJobSignal, flowdata.GlacierJobState{JobID: "other", Completed: true}) // not ours
		env.SignalWorkflow(GlacierJobSignal, done)
		env.SignalWorkflow(GlacierJobSignal, done) // duplicate delivery
	}, 2*time.Hour)
	startGlacier(env, glacierInput())
	var res GlacierRetrieveResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Bytes != 10*mib || res.TreeHash != "abc" || res.JobID != "job-1" || res.Initiations != 1 {
		t.Errorf("result = %+v", res)
	}
	if res.Waited.D() != 2*time.Hour {
		t.Errorf("waited %s, want 2h (the notification's arrival)", res.Waited)
	}
	if f.polls != 0 || f.initiated != 1 || len(f.downloads) != 3 {
		t.Errorf("polls=%d initiated=%d downloads=%v", f.polls, f.initiated, f.downloads)
	}
}

func TestGlacierPollingFallback(t *testing.T) {
	f := &glacierFake{completeAt: 3, state: succeeded(3 * mib)}
	env := newGlacierEnv(t, f)
	startGlacier(env, glacierInput()) // Standard: first poll at 3h, then every 15m
	var res GlacierRetrieveResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if f.polls != 3 || res.Waited.D() != 3*time.Hour+30*time.Minute {
		t.Errorf("polls=%d waited=%s, want 3 polls and 3h30m", f.polls, res.Waited)
	}
}

func TestGlacierJobFailed(t *testing.T) {
	f := &glacierFake{completeAt: 1, state: flowdata.GlacierJobState{StatusCode: "Failed", Completed: true, StatusMessage: "archive gone"}}
	env := newGlacierEnv(t, f)
	in := glacierInput()
	in.PollInterval = flowdata.Duration(time.Minute)
	startGlacier(env, in)
	err := env.GetWorkflowError()
	if err == nil || !strings.Contains(err.Error(), "archive gone") {
		t.Fatalf("want failure with Glacier's message, got %v", err)
	}
	if st := queryStatus(t, env); st.Phase != PhaseFailed {
		t.Errorf("status = %+v", st)
	}
}

func TestGlacierDeadline(t *testing.T) {
	f := &glacierFake{}
	env := newGlacierEnv(t, f)
	in := glacierInput()
	in.Deadline = flowdata.Duration(5 * time.Hour)
	startGlacier(env, in)
	err := env.GetWorkflowError()
	if err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("want deadline failure, got %v", err)
	}
	// First poll at 3h, then every 15m before 5h: 3:00 … 4:45 is 8 polls.
	if f.polls != 8 {
		t.Errorf("polls = %d, want 8", f.polls)
	}
}

func TestGlacierRangeRetryKeepsFinishedRanges(t *testing.T) {
	f := &glacierFake{completeAt: 1, state: succeeded(16 * mib),
		failRange: map[int]error{2: temporal.NewApplicationError("connection reset", "Transient")}}
	res := retrievePolled(t, f)
	if f.downloads[0] != 1 || f.downloads[1] != 1 || f.downloads[2] != 2 || f.downloads[3] != 1 || res.Bytes != 16*mib {
		t.Errorf("downloads per range = %v, bytes %d", f.downloads, res.Bytes)
	}
}

func TestGlacierExpiredOutputIsRetrievedAgain(t *testing.T) {
	f := &glacierFake{completeAt: 1, state: succeeded(12 * mib),
		failRange: map[int]error{1: temporal.NewNonRetryableApplicationError("job expired", activities.ErrTypeJobExpired, nil)}}
	res := retrievePolled(t, f)
	if f.initiated != 2 || res.Initiations != 2 || res.JobID != "job-2" {
		t.Errorf("initiated %d, result %+v", f.initiated, res)
	}
	if f.downloads[0] != 1 || f.downloads[1] != 2 {
		t.Errorf("downloads per range = %v: range 0 must not be fetched again", f.downloads)
	}
}

// retrievePolled runs a retrieval that polls every minute (f decides when
// the job completes) and returns its result.
func retrievePolled(t *testing.T, f *glacierFake) GlacierRetrieveResult {
	t.Helper()
	env := newGlacierEnv(t, f)
	in := glacierInput()
	in.PollInterval = flowdata.Duration(time.Minute)
	startGlacier(env, in)
	var res GlacierRetrieveResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

func clientStartOptions(id string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{ID: id}
}

// TestGlacierRangesLostInRestartAreFetchedAgain: the finish finds ranges
// that did not survive a host restart; only those are downloaded again.
func TestGlacierRangesLostInRestartAreFetchedAgain(t *testing.T) {
	f := &glacierFake{completeAt: 1, state: succeeded(10 * mib), lost: []int{0, 2}}
	res := retrievePolled(t, f)
	if f.finishes != 2 || f.downloads[0] != 2 || f.downloads[1] != 1 || f.downloads[2] != 2 || res.Bytes != 10*mib {
		t.Errorf("finishes=%d downloads=%v result=%+v; want ranges 0 and 2 fetched twice, 1 once", f.finishes, f.downloads, res)
	}
}

// TestGlacierWarnsWhenOutputIsAboutToExpire: a job that completed 21 hours
// before vigil saw it has under 4 hours of output left: the run logs it,
// shows it in its status, and alerts Slack through the named webhook.
func TestGlacierWarnsWhenOutputIsAboutToExpire(t *testing.T) {
	f := &glacierFake{completeAt: 1}
	env := newGlacierEnv(t, f)
	f.state = succeeded(4 * mib)
	f.state.CompletionDate = env.Now().Add(-21 * time.Hour).UTC().Format(time.RFC3339)
	var slack *activities.Slack
	var alert activities.SlackMessage
	env.OnActivity(slack.Notify, mock.Anything, mock.Anything).Return(func(_ context.Context, m activities.SlackMessage) error {
		alert = m
		return nil
	}).Once()
	in := glacierInput()
	in.PollInterval = flowdata.Duration(time.Minute)
	in.AlertWebhookEnv = "OPS_SLACK_WEBHOOK"
	startGlacier(env, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if alert.WebhookEnv != "OPS_SLACK_WEBHOOK" || !strings.Contains(alert.Text, "output expires in 2h59m") {
		t.Errorf("Slack alert %+v, want the named webhook and \"expires in 2h59m\"", alert)
	}
	v, err := env.QueryWorkflow(StatusQuery)
	if err != nil {
		t.Fatal(err)
	}
	var st Status
	if err := v.Get(&st); err != nil {
		t.Fatal(err)
	}
	if st.Details["outputExpires"] == "" {
		t.Errorf("status details %v lack outputExpires", st.Details)
	}
}

// TestGlacierManyRangesRunInChildBatches: an output of more than
// glacierBatchRanges ranges is downloaded by GlacierBatch children, each
// range once (and every child and activity carries a summary, which
// newTestEnv checks).
func TestGlacierManyRangesRunInChildBatches(t *testing.T) {
	f := &glacierFake{completeAt: 1, state: succeeded((glacierBatchRanges + 1) * mib)}
	env := newGlacierEnv(t, f)
	in := glacierInput()
	in.ChunkSize = mib
	startGlacier(env, in)
	var res GlacierRetrieveResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if len(f.downloads) != glacierBatchRanges+1 {
		t.Errorf("%d ranges downloaded, want %d", len(f.downloads), glacierBatchRanges+1)
	}
}
