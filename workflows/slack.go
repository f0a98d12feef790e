package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
)

// notify posts a Slack message, retried a few times; failures are logged.
func notify(ctx workflow.Context, m activities.SlackMessage) {
	opts := ShortCallOptions()
	opts.RetryPolicy.MaximumAttempts = 5
	if err := workflow.ExecuteActivity(Summarized(workflow.WithActivityOptions(ctx, opts), "post alert to Slack"), activities.SlackNotifyName, m).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("Slack alert failed", "error", err)
	}
}
