package workflows

import (
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
)

// A batch that sees many failed attempts forwards a bounded few to its
// retrieval (forwardFailures): the first failure of DownloadRange, the
// first at FailingAlertAttempts, and the recovery of each of those two
// ranges. Before, every failed attempt reached the retrieval (22 signals
// here, about 4 retrieval events each) and no recovery did.
func TestGlacierBatchForwardsBoundedFailures(t *testing.T) {
	env, id := newBatchFailureEnv(t)
	got := &signalCount{n: map[string]int{}}
	opts := withFailureAlerts(t)
	opts.Interceptors = append(opts.Interceptors, got)
	env.SetWorkerOptions(opts)
	// Range 10 of batch 1 fails twice, ranges 11 and 12 ten times each
	// (22 failed attempts); all three then recover.
	env.RegisterDelayedCallback(func() {
		for attempt := int32(1); attempt <= 10; attempt++ {
			for _, r := range []string{"10", "11", "12"} {
				if r != "10" || attempt <= 2 {
					batchSignal(t, env, id, "1", activities.ActivityFailingSignal, r, attempt)
				}
			}
		}
		for _, r := range []string{"10", "11", "12"} {
			batchSignal(t, env, id, "1", activities.ActivityRecoveredSignal, r, 11)
		}
	}, 3*time.Hour+20*time.Minute)
	startGlacier(env, batchFailureInput())
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	got.mu.Lock()
	defer got.mu.Unlock()
	// Range 10's attempt 1 (the first) and range 11's attempt 5 (the
	// first at the threshold), then the recoveries of ranges 10 and 11.
	want := map[string]int{activities.ActivityFailingSignal: 2, activities.ActivityRecoveredSignal: 2}
	for s, n := range want {
		if got.n[s] != n {
			t.Errorf("retrieval received %d %s signals from a batch with 22 failed attempts, want %d (bound: 2 failures and 2 recoveries per activity type)", got.n[s], s, n)
		}
	}
}

// A retry inside a batch that recovers clears the failure the retrieval
// shows. Before, the batch left ActivityRecoveredSignal unread and the
// retrieval showed "attempt 3" until the phase ended.
func TestGlacierBatchRecoveryClearsTheRetrieval(t *testing.T) {
	env, id := newBatchFailureEnv(t)
	env.SetWorkerOptions(withFailureAlerts(t))
	env.RegisterDelayedCallback(func() {
		batchSignal(t, env, id, "1", activities.ActivityFailingSignal, "7", 2)
	}, 3*time.Hour+20*time.Minute)
	var failing, recovered Status
	env.RegisterDelayedCallback(func() { failing = queryStatus(t, env) }, 3*time.Hour+25*time.Minute)
	env.RegisterDelayedCallback(func() {
		batchSignal(t, env, id, "1", activities.ActivityRecoveredSignal, "7", 3)
	}, 3*time.Hour+30*time.Minute)
	env.RegisterDelayedCallback(func() { recovered = queryStatus(t, env) }, 3*time.Hour+35*time.Minute)
	startGlacier(env, batchFailureInput())
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if failing.Attempt != 3 || failing.LastError == "" {
		t.Errorf("retrieval while range 7 fails: attempt %d, last error %q; want attempt 3 and the error", failing.Attempt, failing.LastError)
	}
	if recovered.Attempt != 0 || recovered.LastError != "" {
		t.Errorf("retrieval after range 7 recovered: attempt %d, last error %q; want none", recovered.Attempt, recovered.LastError)
	}
}

// newBatchFailureEnv is a retrieval of three batches (see
// TestGlacierBatchFailuresReachTheRetrieval: batch 1 runs from 3h to
// 3h42m40s) and its workflow ID.
func newBatchFailureEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, string) {
	f := &glacierFake{completeAt: 1, state: succeeded((2*glacierBatchRanges + 1) * mib), rangeDelay: 10 * time.Second}
	in := batchFailureInput()
	return newGlacierEnv(t, f), GlacierWorkflowID(in.Vault, in.ArchiveID)
}

func batchFailureInput() GlacierRetrieveInput {
	in := glacierInput()
	in.ChunkSize, in.Parallel = mib, 4
	return in
}

// batchSignal sends batch child a DownloadRange attempt's signal.
func batchSignal(t *testing.T, env *testsuite.TestWorkflowEnvironment, id, child, signal, activityID string, attempt int32) {
	t.Helper()
	if err := env.SignalWorkflowByID(id+"/ranges/"+child, signal, activities.ActivityFailure{Activity: activities.DownloadRangeName,
		ActivityID: activityID, Attempt: attempt, Error: "input/output error"}); err != nil {
		t.Errorf("signal batch %s: %v", child, err)
	}
}

// signalCount counts the attempt signals GlacierRetrieve runs receive.
type signalCount struct {
	interceptor.WorkerInterceptorBase
	mu sync.Mutex
	n  map[string]int
}

var _ interceptor.WorkerInterceptor = (*signalCount)(nil)

func (c *signalCount) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	if workflow.GetInfo(ctx).WorkflowType.Name != GlacierRetrieveName {
		return next
	}
	return &signalCountInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, c: c}
}

type signalCountInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	c *signalCount
}

func (i *signalCountInbound) HandleSignal(ctx workflow.Context, in *interceptor.HandleSignalInput) error {
	if !workflow.IsReplaying(ctx) {
		i.c.mu.Lock()
		i.c.n[in.SignalName]++
		i.c.mu.Unlock()
	}
	return i.Next.HandleSignal(ctx, in)
}
