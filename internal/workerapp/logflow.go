package workerapp

import (
	"context"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows"
)

// FlowLogKey is the log attribute naming the flow of a workflow or
// activity log line (next to the SDK's WorkflowID, RunID, ...).
const FlowLogKey = "flow"

// flowLogInterceptor adds the flow, derived from the workflow type, to the
// loggers that workflow.GetLogger and activity.GetLogger return.
type flowLogInterceptor struct {
	interceptor.WorkerInterceptorBase
}

func (*flowLogInterceptor) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	i := &flowWorkflowInbound{}
	i.Next = next
	return i
}

func (*flowLogInterceptor) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	i := &flowActivityInbound{}
	i.Next = next
	return i
}

type flowWorkflowInbound struct {
	interceptor.WorkflowInboundInterceptorBase
}

func (i *flowWorkflowInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	o := &flowWorkflowOutbound{}
	o.Next = outbound
	return i.Next.Init(o)
}

type flowWorkflowOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
}

func (o *flowWorkflowOutbound) GetLogger(ctx workflow.Context) log.Logger {
	return log.With(o.Next.GetLogger(ctx), FlowLogKey, workflows.FlowOf(workflow.GetInfo(ctx).WorkflowType.Name))
}

type flowActivityInbound struct {
	interceptor.ActivityInboundInterceptorBase
}

func (i *flowActivityInbound) Init(outbound interceptor.ActivityOutboundInterceptor) error {
	o := &flowActivityOutbound{}
	o.Next = outbound
	return i.Next.Init(o)
}

type flowActivityOutbound struct {
	interceptor.ActivityOutboundInterceptorBase
}

func (o *flowActivityOutbound) GetLogger(ctx context.Context) log.Logger {
	l := o.Next.GetLogger(ctx)
	if t := activity.GetInfo(ctx).WorkflowType; t != nil {
		return log.With(l, FlowLogKey, workflows.FlowOf(t.Name))
	}
	return l
}

// workerInterceptors are the interceptors of every vigil worker: the
// flow in log lines, the one error classification of every activity with
// its failed attempts reported to the run, and one alert per failed run.
func workerInterceptors() []interceptor.WorkerInterceptor {
	return []interceptor.WorkerInterceptor{&flowLogInterceptor{}, &activities.ClassifyInterceptor{}, &workflows.FailureAlerts{}}
}
