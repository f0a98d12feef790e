package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
)

// hostAbsent is the error of a host-pinned attempt no worker of the host
// took.
func hostAbsent() error {
	return temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START, nil)
}

// rangeHostWaitEnv runs three 1 MiB ranges of one rangeFetch (one at a
// time) on hostB with a 2 h host-wait limit; its workflow returns the
// parts delivered and the workflow time the fetch took.
func rangeHostWaitEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *time.Duration, *[]activities.RangePart) {
	env := newTestEnv(t)
	env.SetWorkerOptions(summaryChecked(t, tolerantWorker)) // a loaded machine
	env.RegisterActivityWithOptions(func(context.Context, activities.DownloadRangeInput) (activities.RangePart, error) {
		return activities.RangePart{}, nil
	}, activity.RegisterOptions{Name: activities.DownloadRangeName})
	var took time.Duration
	var got []activities.RangePart
	env.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
		ctx = WithHostWait(ctx, 2*time.Hour)
		st := NewTracker(ctx, GlacierFlow, "t")
		parts := make([]activities.RangePart, 3)
		r := rangeFetch{Host: "hostB", Size: 3 << 20, Chunk: 1 << 20, Parallel: 1, Version: retrievalVersion}
		start := workflow.Now(ctx)
		err := r.run(ctx, st, parts, 0)
		took, got = workflow.Now(ctx).Sub(start), parts
		return err
	}, workflow.RegisterOptions{Name: "rangeHostWait"})
	return env, &took, &got
}

// Two short absences of the host, separated by a range that takes longer
// than the host-wait limit, are two waits, not one: the download goes on.
// Before the fix (rangeHostWaitReset) the wait started at the first
// absence was never ended, and the second absence failed the run with
// HostUnavailable at once, 3 h into a 2 h limit.
func TestRangeHostWaitEndsWhenARangeSucceeds(t *testing.T) {
	env, took, got := rangeHostWaitEnv(t)
	env.OnActivity(activities.DownloadRangeName, mock.Anything, mock.MatchedBy(func(in activities.DownloadRangeInput) bool { return in.Index == 1 })).
		After(3*time.Hour).Return(activities.RangePart{Index: 1, Bytes: 1 << 20, TreeHash: "h1"}, nil)
	calls := map[int]int{}
	env.OnActivity(activities.DownloadRangeName, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.DownloadRangeInput) (activities.RangePart, error) {
		calls[in.Index]++
		if calls[in.Index] == 1 {
			return activities.RangePart{}, hostAbsent()
		}
		return activities.RangePart{Index: in.Index, Bytes: in.Range.Len(), TreeHash: "h"}, nil
	})
	env.ExecuteWorkflow("rangeHostWait")
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("the host was never gone for 2h in a row, yet the fetch failed after %s: %v", *took, err)
	}
	for i, p := range *got {
		if p.Bytes != 1<<20 {
			t.Errorf("range %d not delivered: %+v", i, p)
		}
	}
	if calls[0] != 2 || calls[2] != 2 {
		t.Errorf("ranges 0 and 2 should each be tried twice (absent, then taken): %v", calls)
	}
}

// After a range succeeded, a host that is then gone for good still fails
// the run at the limit, counted from the new absence.
func TestRangeHostWaitLimitCountsFromTheNewAbsence(t *testing.T) {
	env, took, _ := rangeHostWaitEnv(t)
	env.OnActivity(activities.DownloadRangeName, mock.Anything, mock.MatchedBy(func(in activities.DownloadRangeInput) bool { return in.Index == 1 })).
		After(3*time.Hour).Return(activities.RangePart{Index: 1, Bytes: 1 << 20, TreeHash: "h1"}, nil)
	env.OnActivity(activities.DownloadRangeName, mock.Anything, mock.MatchedBy(func(in activities.DownloadRangeInput) bool { return in.Index == 2 })).
		After(time.Minute).Return(activities.RangePart{}, hostAbsent())
	calls := 0
	env.OnActivity(activities.DownloadRangeName, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.DownloadRangeInput) (activities.RangePart, error) {
		if calls++; calls == 1 {
			return activities.RangePart{}, hostAbsent()
		}
		return activities.RangePart{Index: in.Index, Bytes: in.Range.Len(), TreeHash: "h"}, nil
	})
	env.ExecuteWorkflow("rangeHostWait")
	var appErr *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeHostUnavailable {
		t.Fatalf("want HostUnavailable, got %v", err)
	}
	// Range 2 is first found absent 3h1m in; the run gives up 2h later.
	if *took < 5*time.Hour || *took > 5*time.Hour+5*time.Minute {
		t.Errorf("gave up after %s; want about 5h (3h of range 1, then the 2h limit)", *took)
	}
}
