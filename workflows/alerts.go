package workflows

import (
	"encoding/json"
	"fmt"
	"sort"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
)

// failureAlertChange is the workflow.GetVersion change ID of the failure
// alert that FailureAlerts posts when a run fails without having alerted
// (version 1). Runs recorded before it replay with DefaultVersion: no
// alert.
const failureAlertChange = "vigil-failure-alert"

// alertedFlows are the workflow types whose terminal failure posts one
// Slack alert: the flows' own (a danger-coloured notify) or, when the run
// posted none, FailureAlerts'. Datastore runs post their one report
// whatever the outcome (and may be told not to); GlacierBatch runs are
// children whose failure fails, and alerts, their retrieval; the
// bookkeeping workflows alert on nothing of their own.
var alertedFlows = map[string]bool{
	GlacierRetrieveName: true, S3RestoreName: true, BatchJobName: true,
	S3ObjectName: true, S3SweepName: true, BackupName: true, RestoreName: true,
}

// PostsFailureAlert tells whether a failed run of the workflow type posts
// its own Slack alert (FailureAlerts' or the flow's), so that a schedule
// watcher must not post another.
func PostsFailureAlert(workflowType string) bool { return alertedFlows[workflowType] }

// webhookFields are the input fields, at the top or one level down (a
// pipeline's, a batch job's), that name a run's Slack webhook variable.
var webhookFields = []string{"alertWebhookEnv", "notifyOnFailure", "webhookEnv"}

// runAlerts is one run's alert bookkeeping, shared by FailureAlerts, the
// run's notify calls and its Tracker through the workflow context.
type runAlerts struct {
	// webhookEnv is the run's webhook variable (empty: the default).
	webhookEnv string
	// failed is set once the run posted a danger-coloured alert.
	failed bool
	// failing holds the activity types alerted as failing repeatedly.
	failing map[string]bool
}

type runAlertsKey struct{}

// alertsOf is the run's bookkeeping; without FailureAlerts (tests of one
// flow) a fresh one that nothing else shares.
func alertsOf(ctx workflow.Context) *runAlerts {
	if a, ok := ctx.Value(runAlertsKey{}).(*runAlerts); ok {
		return a
	}
	return &runAlerts{}
}

// FailureAlerts is the worker interceptor that makes every terminal
// failure of a flow (alertedFlows) post exactly one Slack alert: a run
// that fails (not cancelled, not continued as new) without having posted
// a danger-coloured alert itself gets one naming the flow, the run and
// the error, to the webhook its input names. It also gives each run the
// bookkeeping its Tracker uses to alert once on an activity that keeps
// failing (tracker_failures.go).
type FailureAlerts struct {
	interceptor.WorkerInterceptorBase
}

// InterceptWorkflow implements interceptor.WorkerInterceptor.
func (*FailureAlerts) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	i := &alertsInbound{alerts: &runAlerts{}}
	i.Next = next
	return i
}

type alertsInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	alerts *runAlerts
}

// Init installs the outbound half, which notes the run's own alerts.
func (i *alertsInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	o := &alertsOutbound{alerts: i.alerts}
	o.Next = outbound
	return i.Next.Init(o)
}

// ExecuteWorkflow runs the workflow and alerts on its failure.
func (i *alertsInbound) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	// webhookOf marshals the input to JSON, which is deterministic (struct
	// fields in order, map keys sorted) but reflective, which workflowcheck
	// cannot tell apart.
	i.alerts.webhookEnv = webhookOf(in.Args) //workflowcheck:ignore
	ctx = workflow.WithValue(ctx, runAlertsKey{}, i.alerts)
	res, err := i.Next.ExecuteWorkflow(ctx, in)
	info := workflow.GetInfo(ctx)
	if err == nil || i.alerts.failed || !alertedFlows[info.WorkflowType.Name] ||
		temporal.IsCanceledError(err) || workflow.IsContinueAsNewError(err) {
		return res, err
	}
	if workflow.GetVersion(ctx, failureAlertChange, workflow.DefaultVersion, 1) < 1 {
		return res, err
	}
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	flow, id := FlowOf(info.WorkflowType.Name), info.WorkflowExecution.ID
	notify(dctx, activities.SlackMessage{
		WebhookEnv: i.alerts.webhookEnv,
		Text:       fmt.Sprintf("vigil: %s %s failed", flow, id),
		Color:      activities.SlackDanger,
		Title:      fmt.Sprintf("%s run %s failed", flow, id),
		Fields:     []activities.SlackField{{Title: "Error", Value: errorText(err)}},
		Footer:     "starter status " + id,
	})
	return res, err
}

type alertsOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	alerts *runAlerts
}

// ExecuteActivity notes a danger-coloured Slack alert of the run.
func (o *alertsOutbound) ExecuteActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	if activityType == activities.SlackNotifyName && len(args) == 1 {
		if m, ok := args[0].(activities.SlackMessage); ok && m.Color == activities.SlackDanger {
			o.alerts.failed = true
		}
	}
	return o.Next.ExecuteActivity(ctx, activityType, args...)
}

// webhookOf finds the webhook variable a run's input names (webhookFields);
// empty when it names none.
func webhookOf(args []any) string {
	if len(args) == 0 {
		return ""
	}
	b, err := json.Marshal(args[0])
	if err != nil {
		return ""
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(b, &top) != nil {
		return ""
	}
	if env := webhookIn(top); env != "" {
		return env
	}
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic when two nested objects name one
	for _, k := range keys {
		var inner map[string]json.RawMessage
		if json.Unmarshal(top[k], &inner) == nil {
			if env := webhookIn(inner); env != "" {
				return env
			}
		}
	}
	return ""
}

// webhookIn is the first webhookFields value set in m.
func webhookIn(m map[string]json.RawMessage) string {
	for _, f := range webhookFields {
		var s string
		if raw, ok := m[f]; ok && json.Unmarshal(raw, &s) == nil && s != "" {
			return s
		}
	}
	return ""
}
