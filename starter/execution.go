package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/cli"
	"github.com/vigilops/vigil/workflows"
)

// Helpers shared by the workflow verbs (and by later verbs' --wait): the
// status query, a run's outcome from its close event, search attributes.

// outcome is how a workflow run ended, read from its close event.
type outcome struct {
	// RunID is the run that closed.
	RunID string
	// Status is the close status.
	Status enumspb.WorkflowExecutionStatus
	// CloseTime is when the run closed.
	CloseTime time.Time
	// Result is the decoded result of a completed run (nil when none).
	Result any
	// HasResult is true when the run returned a value.
	HasResult bool
	// Reason explains a run that did not complete: the failure chain, the
	// termination reason, the timeout.
	Reason string
	// Chain is a failed run's failure and its causes with their types
	// (cli.FailureChain), the details behind Reason.
	Chain []string
	// NewRunID is the next run of a run that continued as new.
	NewRunID string
}

// awaitOutcome blocks until run runID of workflow id closes and returns how
// it ended. With follow, runs that continued as new are followed to the
// last one. runID must be a concrete run ID (from describe).
func awaitOutcome(ctx context.Context, c client.Client, id, runID string, follow bool) (outcome, error) {
	for {
		iter := c.GetWorkflowHistory(ctx, id, runID, true, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
		if !iter.HasNext() {
			return outcome{}, fmt.Errorf("workflow %q run %s: the server returned no close event", id, runID)
		}
		ev, err := iter.Next()
		if err != nil {
			return outcome{}, err
		}
		o := outcomeFromEvent(ev)
		o.RunID = runID
		if o.Status == enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED {
			o.Reason = cancelReason(ctx, c, id, runID, o.Reason)
		}
		if follow && o.Status == enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW && o.NewRunID != "" {
			runID = o.NewRunID
			continue
		}
		return o, nil
	}
}

// outcomeFromEvent decodes a workflow close event.
func outcomeFromEvent(ev *historypb.HistoryEvent) outcome {
	o := outcome{CloseTime: ev.GetEventTime().AsTime()}
	switch ev.GetEventType() {
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
		o.Status = enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
		o.Result, o.HasResult = decodePayloads(ev.GetWorkflowExecutionCompletedEventAttributes().GetResult())
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
		o.Status = enumspb.WORKFLOW_EXECUTION_STATUS_FAILED
		f := ev.GetWorkflowExecutionFailedEventAttributes().GetFailure()
		o.Reason, o.Chain = cli.FailureMessage(f), cli.FailureChain(f)
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
		o.Status = enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED
		o.Reason = "canceled"
		if d, ok := decodePayloads(ev.GetWorkflowExecutionCanceledEventAttributes().GetDetails()); ok && d != nil {
			o.Reason += ": " + renderValue(d)
		}
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
		o.Status = enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED
		o.Reason = "terminated"
		if r := ev.GetWorkflowExecutionTerminatedEventAttributes().GetReason(); r != "" {
			o.Reason += ": " + r
		}
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
		o.Status = enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT
		o.Reason = "timed out (workflow run or execution timeout reached)"
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
		o.Status = enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW
		o.NewRunID = ev.GetWorkflowExecutionContinuedAsNewEventAttributes().GetNewExecutionRunId()
		o.Reason = "continued as new run " + o.NewRunID
	default:
		o.Reason = "unexpected close event " + ev.GetEventType().String()
	}
	return o
}

// cancelReason finds who asked a canceled run to stop and why, from its
// cancel-request event, and adds it to reason (what the close event said).
func cancelReason(ctx context.Context, c client.Client, id, runID, reason string) string {
	iter := c.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			return reason
		}
		if a := ev.GetWorkflowExecutionCancelRequestedEventAttributes(); a != nil {
			if a.GetIdentity() != "" {
				reason += " by " + a.GetIdentity()
			}
			if a.GetCause() != "" {
				reason += ": " + a.GetCause()
			}
			return reason
		}
	}
	return reason
}

// decodePayloads decodes result payloads with the default data converter,
// URLs redacted for output.
// A payload it cannot decode is described instead of failing.
func decodePayloads(p *commonpb.Payloads) (any, bool) {
	items := p.GetPayloads()
	if len(items) == 0 {
		return nil, false
	}
	dc := converter.GetDefaultDataConverter()
	values := make([]any, len(items))
	for i, item := range items {
		var v any
		if err := dc.FromPayload(item, &v); err != nil {
			v = fmt.Sprintf("<%d bytes, encoding %s>", len(item.GetData()), item.GetMetadata()[converter.MetadataEncoding])
		}
		values[i] = redactValue(v)
	}
	if len(values) == 1 {
		return values[0], true
	}
	return values, true
}

// keyword returns a Keyword search attribute's value, or "".
func keyword(sa *commonpb.SearchAttributes, name string) string {
	p, ok := sa.GetIndexedFields()[name]
	if !ok || p == nil {
		return ""
	}
	var s string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &s); err == nil {
		return s
	}
	var list []string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &list); err == nil {
		return strings.Join(list, ",")
	}
	return ""
}

// queryStatus runs the workflows.StatusQuery on a run, bounded by timeout.
func queryStatus(ctx context.Context, c client.Client, id, runID string, timeout time.Duration) (workflows.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var st workflows.Status
	v, err := c.QueryWorkflow(ctx, id, runID, workflows.StatusQuery)
	if err != nil {
		return st, explainQueryError(ctx, err, timeout)
	}
	if err := v.Get(&st); err != nil {
		return st, fmt.Errorf("the status query answer could not be decoded: %v", err)
	}
	return st, nil
}

// explainQueryError turns a query failure into a short explanation; ctx is
// the query's context.
func explainQueryError(ctx context.Context, err error, timeout time.Duration) error {
	var qf *serviceerror.QueryFailed
	var deadline *serviceerror.DeadlineExceeded
	switch {
	case errors.Is(ctx.Err(), context.Canceled) || errors.Is(err, context.Canceled):
		return errors.New("interrupted")
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &deadline) || status.Code(err) == codes.DeadlineExceeded:
		return fmt.Errorf("no worker answered within %s (is the worker running?)", timeout)
	case errors.As(err, &qf) && strings.Contains(strings.ToLower(qf.Message), "unknown querytype"):
		return fmt.Errorf("the workflow does not answer the %q query (not a vigil flow?)", workflows.StatusQuery)
	case errors.As(err, &qf):
		return fmt.Errorf("the workflow rejected the query: %s", oneLine(qf.Message))
	}
	return err // printError makes it one line; its type keeps its exit code
}

// notFound reports whether err says the workflow does not exist.
func notFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}

// describeError makes a describe failure one clear line.
func (a *app) describeError(id string, err error) error {
	if notFound(err) {
		return cli.NotFound(fmt.Errorf("workflow %q not found in namespace %q", id, a.namespace))
	}
	if errors.Is(err, context.Canceled) {
		return errors.New("interrupted")
	}
	return fmt.Errorf("describing workflow %q: %w", id, err)
}

// queryLiveStatus is queryStatus with the live progress of a pending
// transfer activity merged in (workflows.MergeHeartbeat): its last
// heartbeat, from DescribeWorkflowExecution. When the describe fails, the
// query's answer stands alone.
func (a *app) queryLiveStatus(ctx context.Context, c client.Client, id, runID string) (workflows.Status, error) {
	st, err := queryStatus(ctx, c, id, runID, a.queryTimeout)
	if err != nil {
		return st, err
	}
	desc, err := c.DescribeWorkflowExecution(ctx, id, runID)
	if err != nil {
		return st, nil
	}
	return a.mergeHeartbeats(st, desc.GetPendingActivities()), nil
}

// mergeHeartbeats merges the heartbeat details of the pending activities
// that heartbeat their progress into st, and the attempt and last failure
// of one that is retrying (mergeRetrying).
func (a *app) mergeHeartbeats(st workflows.Status, pending []*workflowpb.PendingActivityInfo) workflows.Status {
	st = mergeRetrying(st, pending)
	dc := a.dataConverter
	if dc == nil {
		dc = converter.GetDefaultDataConverter()
	}
	for _, pa := range pending {
		name := pa.GetActivityType().GetName()
		if !workflows.HeartbeatsProgress(name) || len(pa.GetHeartbeatDetails().GetPayloads()) == 0 {
			continue
		}
		var p activities.UploadProgress
		if err := dc.FromPayloads(pa.GetHeartbeatDetails(), &p); err == nil {
			st = st.MergeHeartbeat(name, p)
		}
	}
	return st
}

// mergeRetrying shows in st the latest attempt and last failure of a
// pending activity that is retrying, when the run's own status (which
// the worker's failure reports keep) does not show a later one: a
// transfer whose worker died (a heartbeat timeout) is never reported by
// the worker, so `starter wait` would otherwise show no error at all.
func mergeRetrying(st workflows.Status, pending []*workflowpb.PendingActivityInfo) workflows.Status {
	for _, pa := range pending {
		if pa.GetAttempt() <= 1 || pa.GetLastFailure() == nil || int(pa.GetAttempt()) <= st.Attempt {
			continue
		}
		st.Attempt = int(pa.GetAttempt())
		st.LastError = fmt.Sprintf("%s attempt %d: %s", pa.GetActivityType().GetName(), pa.GetAttempt()-1, cli.FailureMessage(pa.GetLastFailure()))
	}
	return st
}
