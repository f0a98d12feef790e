package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// Bounds of the waits enforced by the workflows themselves (#20 §4): a
// run started outside the starter (a schedule written by hand, the Web UI,
// another SDK) with a poll interval below flowdata.MinPollInterval polls
// at the floor, and a deadline past flowdata.MaxWaitDeadline is cut to
// it. Before, a 1 s interval polled every second (3 polls in 3 s) and a
// 90-day deadline stood.

// tooFast is the poll interval of the tests: below the floor.
const tooFast = flowdata.Duration(time.Second)

// tooLong is the deadline of the tests: past the maximum.
const tooLong = flowdata.Duration(90 * 24 * time.Hour)

func TestGlacierPollIntervalFloor(t *testing.T) {
	f := &glacierFake{completeAt: 3, state: succeeded(3 * mib)}
	env := newGlacierEnv(t, f)
	in := glacierInput()
	in.PollInterval = tooFast
	startGlacier(env, in)
	var res GlacierRetrieveResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if f.polls != 3 || res.Waited.D() != 3*flowdata.MinPollInterval {
		t.Errorf("%d polls in %s; want 3 polls at the %s floor", f.polls, res.Waited, flowdata.MinPollInterval)
	}
}

// deadlineOfWait queries the run's wait an hour in, then cancels it.
func deadlineOfWait(t *testing.T, env *testsuite.TestWorkflowEnvironment) func() time.Duration {
	var st Status
	env.RegisterDelayedCallback(func() {
		st = queryStatus(t, env)
		env.CancelWorkflow()
	}, time.Hour)
	return func() time.Duration {
		if err := env.GetWorkflowError(); !temporal.IsCanceledError(err) {
			t.Fatalf("want the cancelled run, got %v", err)
		}
		if st.Waiting == nil {
			t.Fatalf("status %+v: not waiting", st)
		}
		return st.Waiting.Deadline.Sub(st.Started)
	}
}

func TestGlacierDeadlineCapped(t *testing.T) {
	env := newGlacierEnv(t, &glacierFake{})
	in := glacierInput()
	in.Deadline, in.PollInterval = tooLong, flowdata.Duration(10*time.Minute)
	got := deadlineOfWait(t, env)
	startGlacier(env, in)
	if d := got(); d != flowdata.MaxWaitDeadline {
		t.Errorf("deadline %s after the start, want the %s maximum", d, flowdata.MaxWaitDeadline)
	}
}

// s3RestoreWaitEnv is an S3 restore whose object is restored at the
// third HeadRestore; heads counts them.
func s3RestoreWaitEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *int) {
	env := newBatchEnv(t)
	(&activities.S3Restore{}).Register(env)
	var ra *activities.S3Restore
	env.OnActivity(ra.RestoreObject, mock.Anything, mock.Anything).Return(flowdata.S3RestoreState{Ongoing: true, Size: 5}, nil).Once()
	heads := 0
	env.OnActivity(ra.HeadRestore, mock.Anything, mock.Anything).Return(func(context.Context, activities.HeadRestoreInput) (flowdata.S3RestoreState, error) {
		heads++
		return flowdata.S3RestoreState{Ongoing: heads < 3, Restored: heads >= 3, Size: 5}, nil
	}).Maybe()
	return env, &heads
}

func TestS3RestorePollIntervalFloor(t *testing.T) {
	env, heads := s3RestoreWaitEnv(t)
	env.ExecuteWorkflow(S3RestoreWorkflow, S3RestoreInput{Bucket: "b", Key: "k", PollInterval: tooFast})
	var res S3RestoreResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if *heads != 3 || res.Waited.D() != 3*flowdata.MinPollInterval {
		t.Errorf("%d polls in %s; want 3 polls at the %s floor", *heads, res.Waited, flowdata.MinPollInterval)
	}
}

func TestS3RestoreDeadlineCapped(t *testing.T) {
	env, _ := s3RestoreWaitEnv(t)
	got := deadlineOfWait(t, env)
	env.ExecuteWorkflow(S3RestoreWorkflow, S3RestoreInput{Bucket: "b", Key: "k", PollInterval: flowdata.Duration(2 * time.Hour), Deadline: tooLong})
	if d := got(); d != flowdata.MaxWaitDeadline {
		t.Errorf("deadline %s after the start, want the %s maximum", d, flowdata.MaxWaitDeadline)
	}
}
