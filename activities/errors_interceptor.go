package activities

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
)

// ActivityFailingSignal is the signal the worker's ClassifyInterceptor
// sends a run when one of its activities failed an attempt that will be
// retried; its payload is an ActivityFailure. The run's Tracker
// (workflows/tracker_failures.go) shows it in the status and alerts once
// when the same activity keeps failing.
const ActivityFailingSignal = "vigil-activity-failing"

// ActivityRecoveredSignal is the signal ClassifyInterceptor sends when a
// retried attempt succeeds (its ActivityFailure names the attempt), so the
// run stops showing the failure before it. A signal of its own: workflow
// code that predates it leaves it unread.
const ActivityRecoveredSignal = "vigil-activity-recovered"

// reportTimeout bounds the signal of one failed attempt.
const reportTimeout = 5 * time.Second

// ActivityFailure is one failed attempt of an activity that will be
// retried.
type ActivityFailure struct {
	// Activity is the activity type.
	Activity string `json:"activity"`
	// Attempt is the attempt that failed, from 1.
	Attempt int32 `json:"attempt"`
	// Error is its error message.
	Error string `json:"error"`
	// ActivityID tells apart concurrent activities of one type (empty in
	// signals of older workers).
	ActivityID string `json:"activityId,omitempty"`
}

// ClassifyInterceptor is the worker interceptor that makes every
// activity's error path go through the one classification (Classify),
// whatever the activity returned: an os, syscall, smithy or gRPC error an
// activity returned as it is becomes the non-retryable application error
// Classify would have made of it (ClassifyReturned). Each failed attempt
// that will be retried is reported to its run with the
// ActivityFailingSignal, so the run's status shows the last error and
// attempt while the retries go on (Slack's own activity excepted: its
// failures are logged by the run).
type ClassifyInterceptor struct {
	interceptor.WorkerInterceptorBase
}

// InterceptActivity implements interceptor.WorkerInterceptor.
func (*ClassifyInterceptor) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	i := &classifyInbound{}
	i.Next = next
	return i
}

type classifyInbound struct {
	interceptor.ActivityInboundInterceptorBase
}

// ExecuteActivity classifies the activity's error and reports a retried
// failure to its run.
func (i *classifyInbound) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	res, err := i.Next.ExecuteActivity(ctx, in)
	if err == nil {
		if info := activity.GetInfo(ctx); info.Attempt > 1 && info.WorkflowExecution.ID != "" && info.ActivityType.Name != SlackNotifyName {
			report(ctx, info, ActivityRecoveredSignal, ActivityFailure{Activity: info.ActivityType.Name, Attempt: info.Attempt, ActivityID: info.ActivityID})
		}
		return res, nil
	}
	err = ClassifyReturned(err)
	if info := activity.GetInfo(ctx); willRetry(info, err) && info.ActivityType.Name != SlackNotifyName && ctx.Err() == nil {
		report(ctx, info, ActivityFailingSignal, ActivityFailure{Activity: info.ActivityType.Name, Attempt: info.Attempt, Error: err.Error(), ActivityID: info.ActivityID})
	}
	return res, err
}

// willRetry tells whether Temporal will retry the attempt that failed
// with err.
func willRetry(info activity.Info, err error) bool {
	var appErr *temporal.ApplicationError
	if temporal.IsCanceledError(err) || (errors.As(err, &appErr) && appErr.NonRetryable()) {
		return false
	}
	if p := info.RetryPolicy; p != nil && p.MaximumAttempts > 0 && info.Attempt >= p.MaximumAttempts {
		return false
	}
	return info.WorkflowExecution.ID != ""
}

// report signals a failed (or recovered) attempt to the activity's run; a
// run that has ended or a server that does not answer is only logged.
func report(ctx context.Context, info activity.Info, signal string, f ActivityFailure) {
	c := activity.GetClient(ctx)
	if c == nil {
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), reportTimeout)
	defer cancel()
	if serr := c.SignalWorkflow(sctx, info.WorkflowExecution.ID, info.WorkflowExecution.RunID, signal, f); serr != nil {
		activity.GetLogger(ctx).Debug("cannot report the attempt to its run", "signal", signal, "error", serr)
	}
}
