package e2e

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	activitypb "go.temporal.io/api/activity/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/vigilops/vigil/internal/testenv"
)

// holder holds the n-th request matching a predicate (counting from 1)
// until its client gives up, typically because the worker that sent it was
// killed. Every other request passes through.
type holder struct {
	n       int
	match   func(*http.Request) bool
	reached chan struct{} // closed when the held request arrives
	mu      sync.Mutex
	seen    int
}

// holdNth returns a holder for the n-th request matching match.
func holdNth(n int, match func(*http.Request) bool) *holder {
	return &holder{n: n, match: match, reached: make(chan struct{})}
}

// Wrap is the emulator wrapper (localcloud.Options.Wrap).
func (h *holder) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.match(r) {
			h.mu.Lock()
			h.seen++
			hold := h.seen == h.n
			h.mu.Unlock()
			if hold {
				close(h.reached)
				<-r.Context().Done()
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// Seen is how many matching requests arrived, the held one included.
func (h *holder) Seen() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seen
}

// killedHeartbeatTimeout replaces, for the attempts a killed worker held,
// the heartbeat timeouts the flows set (20 s to 1 min): the server then
// gives up on them in seconds and the tests that kill workers run in CI.
const killedHeartbeatTimeout = 2 * time.Second

// heldAttempt is one activity attempt a killed worker was running.
type heldAttempt struct {
	exec       *commonpb.WorkflowExecution
	activityID string
	attempt    int32
}

// expireKilledAttempts shortens the heartbeat timeout of every activity
// attempt running now in the open workflows (call it once the worker
// running them is killed, before another starts) through the server's
// UpdateActivityOptions API, so they time out and are retried at once
// instead of after their production heartbeat timeout. The returned
// function waits until each of them was retried (or is gone) and puts
// their original options back, so the retries run with the flows' own
// timeouts.
func expireKilledAttempts(ctx context.Context, t *testing.T, c client.Client, namespace string) (restore func()) {
	t.Helper()
	var held []heldAttempt
	open, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: namespace, PageSize: 1000,
		Query: "ExecutionStatus = 'Running'"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range open.Executions {
		desc, err := c.DescribeWorkflowExecution(ctx, e.Execution.WorkflowId, e.Execution.RunId)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range desc.PendingActivities {
			if a.State != enumspb.PENDING_ACTIVITY_STATE_STARTED {
				continue
			}
			_, err := c.WorkflowService().UpdateActivityOptions(ctx, &workflowservice.UpdateActivityOptionsRequest{
				Namespace: namespace, Execution: e.Execution, Identity: "e2e-kill-test",
				Activity:        &workflowservice.UpdateActivityOptionsRequest_Id{Id: a.ActivityId},
				ActivityOptions: &activitypb.ActivityOptions{HeartbeatTimeout: durationpb.New(killedHeartbeatTimeout)},
				UpdateMask:      &fieldmaskpb.FieldMask{Paths: []string{"heartbeat_timeout"}},
			})
			if err != nil {
				t.Fatalf("shortening the heartbeat timeout of %s activity %s: %v", e.Execution.WorkflowId, a.ActivityId, err)
			}
			held = append(held, heldAttempt{exec: e.Execution, activityID: a.ActivityId, attempt: a.Attempt})
		}
	}
	if len(held) == 0 {
		t.Fatal("no activity attempt was running when the worker was killed")
	}
	return func() {
		t.Helper()
		for _, h := range held {
			testenv.Eventually(t, 2*time.Minute, 100*time.Millisecond, "the retry of "+h.exec.WorkflowId+" activity "+h.activityID, func() bool {
				a, ok := pendingActivity(ctx, t, c, h.exec, h.activityID)
				return !ok || a.Attempt > h.attempt
			})
			_, err := c.WorkflowService().UpdateActivityOptions(ctx, &workflowservice.UpdateActivityOptionsRequest{
				Namespace: namespace, Execution: h.exec, Identity: "e2e-kill-test",
				Activity: &workflowservice.UpdateActivityOptionsRequest_Id{Id: h.activityID}, RestoreOriginal: true,
			})
			var nf *serviceerror.NotFound
			if err != nil && !errors.As(err, &nf) {
				t.Fatalf("restoring the options of %s activity %s: %v", h.exec.WorkflowId, h.activityID, err)
			}
		}
	}
}

// pendingActivity is the pending activity id of exec, if it is pending.
func pendingActivity(ctx context.Context, t *testing.T, c client.Client, exec *commonpb.WorkflowExecution, id string) (*workflowpb.PendingActivityInfo, bool) {
	t.Helper()
	desc, err := c.DescribeWorkflowExecution(ctx, exec.WorkflowId, exec.RunId)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range desc.PendingActivities {
		if a.ActivityId == id {
			return a, true
		}
	}
	return nil, false
}
