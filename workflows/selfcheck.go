package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
)

// SelfCheckFlow is the VigilFlow value of SelfCheckWorkflow runs.
const SelfCheckFlow = "selfcheck"

// SelfCheckWorkflow proves a worker is polling the task queue and can reach
// its cloud APIs: one activity probes S3 and SQS from the worker host.
// `starter doctor` runs it.
func SelfCheckWorkflow(ctx workflow.Context) (activities.ProbeResult, error) {
	st := NewTracker(ctx, SelfCheckFlow, "worker")
	st.SetPhase(PhaseRunning)
	var res activities.ProbeResult
	err := workflow.ExecuteActivity(Summarized(workflow.WithActivityOptions(ctx, ShortCallOptions()), "probe cloud access"), activities.ProbeName, activities.ProbeInput{}).Get(ctx, &res)
	if err != nil {
		st.Fail(err)
		return res, err
	}
	st.SetPhase(PhaseDone)
	return res, nil
}
