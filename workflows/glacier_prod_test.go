package workflows

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// TestGlacierFileDestinationRunsOnOneHost: file:///out names no host, so
// the run picks one (the WorkerHost answer, hostA) and every step touching
// the file ran on hostA's queue; the result and status name the host.
func TestGlacierFileDestinationRunsOnOneHost(t *testing.T) {
	f := &glacierFake{completeAt: 1, state: succeeded(10 * mib)}
	env := newGlacierEnv(t, f)
	in := glacierInput()
	in.PollInterval = flowdata.Duration(time.Minute)
	startGlacier(env, in)
	var res GlacierRetrieveResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Host != "hostA" || res.Location != "file://hostA/out" {
		t.Errorf("result host %q location %q, want hostA and file://hostA/out", res.Host, res.Location)
	}
	want := HostTaskQueue("default-test-taskqueue", "hostA")
	for _, name := range []string{activities.PrepareDestinationName, activities.DownloadRangeName, activities.FinishDestinationName} {
		if q := f.queues[name]; len(q) != 1 || !q[want] {
			t.Errorf("%s ran on %v, want only %s", name, q, want)
		}
	}
	if st := queryStatus(t, env); st.Details["host"] != "hostA" {
		t.Errorf("status details %v, want host=hostA", st.Details)
	}
}

// TestGlacierS3DestinationIsNotPinned: an S3 destination needs no host.
func TestGlacierS3DestinationIsNotPinned(t *testing.T) {
	f := &glacierFake{completeAt: 1, state: succeeded(16 * mib)}
	env := newGlacierEnv(t, f)
	in := glacierInput()
	in.Destination, in.ChunkSize = "s3://out-bucket/a.bin", 0
	in.PollInterval = flowdata.Duration(time.Minute)
	startGlacier(env, in)
	var res GlacierRetrieveResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Host != "" || f.queues[activities.DownloadRangeName]["default-test-taskqueue"] != true {
		t.Errorf("host %q, ranges ran on %v; want the shared queue", res.Host, f.queues[activities.DownloadRangeName])
	}
	// 16 MiB to S3 with no chunk size: 8 MiB parts (S3's minimum is 5).
	if len(f.downloads) != 2 {
		t.Errorf("%d ranges, want 2 of 8 MiB", len(f.downloads))
	}
}

// TestGlacierFailureCleansUp: a range that fails for good fails the run;
// the partial file is removed (on its host) and the failure says so.
func TestGlacierFailureCleansUp(t *testing.T) {
	f := &glacierFake{completeAt: 1, state: succeeded(12 * mib),
		failRange: map[int]error{1: temporal.NewNonRetryableApplicationError("disk full", "Fatal", nil)}}
	env := newGlacierEnv(t, f)
	in := glacierInput()
	in.PollInterval = flowdata.Duration(time.Minute)
	startGlacier(env, in)
	err := env.GetWorkflowError()
	if err == nil || !strings.Contains(err.Error(), "removed partial file") || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("error %v, want the cause and what was removed", err)
	}
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != "Fatal" {
		t.Errorf("error type lost: %v", err)
	}
	if len(f.aborted) != 1 || f.aborted[0].Dest.Host != "hostA" || !f.queues[activities.AbortDestinationName][HostTaskQueue("default-test-taskqueue", "hostA")] {
		t.Errorf("aborted %+v on %v, want one abort on hostA", f.aborted, f.queues[activities.AbortDestinationName])
	}
}

// TestGlacierNotFoundIsNotExpiry: a NotFound that is not the job's
// (NoSuchUpload, NoSuchBucket) fails the run instead of paying for a new
// retrieval.
func TestGlacierNotFoundIsNotExpiry(t *testing.T) {
	f := &glacierFake{completeAt: 1, state: succeeded(12 * mib),
		failRange: map[int]error{1: temporal.NewNonRetryableApplicationError("S3 UploadPart: NoSuchUpload", activities.ErrTypeNotFound, nil)}}
	env := newGlacierEnv(t, f)
	in := glacierInput()
	in.PollInterval = flowdata.Duration(time.Minute)
	startGlacier(env, in)
	if err := env.GetWorkflowError(); err == nil || !strings.Contains(err.Error(), "NoSuchUpload") {
		t.Fatalf("error %v, want the NoSuchUpload failure", err)
	}
	if f.initiated != 1 {
		t.Errorf("initiated %d jobs, want 1", f.initiated)
	}
}

// TestGlacierCancelCleansUp: cancelling mid-download stops the ranges,
// removes the partial file and ends the run cancelled, saying what was
// removed.
func TestGlacierCancelCleansUp(t *testing.T) {
	f := &glacierFake{completeAt: 1, state: succeeded(64 * mib), rangeDelay: time.Hour}
	env := newGlacierEnv(t, f)
	env.RegisterDelayedCallback(env.CancelWorkflow, 30*time.Minute)
	in := glacierInput()
	in.PollInterval = flowdata.Duration(time.Minute)
	startGlacier(env, in)
	err := env.GetWorkflowError()
	var canceled *temporal.CanceledError
	if !errors.As(err, &canceled) {
		t.Fatalf("error %v, want cancelled", err)
	}
	var note string
	if !canceled.HasDetails() || canceled.Details(&note) != nil || !strings.Contains(note, "removed partial file") {
		t.Errorf("cancel details %q, want what was removed", note)
	}
	if len(f.aborted) != 1 {
		t.Errorf("aborted %d times, want 1", len(f.aborted))
	}
}

// TestCallOnHostWaitsForTheHost: while no worker of the host takes the
// activity (a schedule-to-start timeout), the status says the run waits
// for the host and the activity is scheduled again; it then succeeds and
// the message is cleared.
func TestCallOnHostWaitsForTheHost(t *testing.T) {
	env := newTestEnv(t)
	calls := 0
	var seen []string
	var st *Tracker
	env.RegisterActivityWithOptions(func(context.Context) (string, error) { return "", nil }, activity.RegisterOptions{Name: "Probe1"})
	env.OnActivity("Probe1", mock.Anything).Return(func(context.Context) (string, error) {
		calls++
		seen = append(seen, st.Status().Message)
		if calls < 3 {
			return "", temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START, nil)
		}
		return "done", nil
	})
	env.RegisterWorkflowWithOptions(func(ctx workflow.Context) (string, error) {
		st = NewTracker(ctx, "test", "t")
		var out string
		err := CallOnHost(ctx, st, "db-01", summarized(ShortCallOptions(), "probe db-01"), "Probe1", &out)
		return out + "|" + st.Status().Message, err
	}, workflow.RegisterOptions{Name: "callOnHostTest"})
	env.ExecuteWorkflow("callOnHostTest")
	var out string
	if err := env.GetWorkflowResult(&out); err != nil {
		t.Fatal(err)
	}
	if calls != 3 || out != "done|" {
		t.Errorf("calls %d, result %q; want 3 calls and the message cleared", calls, out)
	}
	if len(seen) != 3 || !IsWaitingForHost(seen[1], "db-01") || !IsWaitingForHost(seen[2], "db-01") {
		t.Errorf("status messages seen by the attempts: %q", seen)
	}
}
