package workflows

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// datastoreReplayStubs registers stub Datastore activities whose
// operation goes through states, and a report that fails failReports times.
func datastoreReplayStubs(w worker.Worker, failReports int, states ...string) {
	reg := func(name string, f any) { w.RegisterActivityWithOptions(f, activity.RegisterOptions{Name: name}) }
	op := func(state string) flowdata.DatastoreOp {
		done := state == flowdata.DatastoreSuccessful || state == flowdata.DatastoreFailed
		return flowdata.DatastoreOp{Name: "projects/p/operations/o", State: state, Done: done, EntitiesDone: 10, EntitiesEstimated: 10}
	}
	start := func(context.Context, activities.DatastoreStartInput) (flowdata.DatastoreOp, error) {
		return op(flowdata.DatastoreInitializing), nil
	}
	reg(activities.StartDatastoreExportName, start)
	reg(activities.StartDatastoreImportName, start)
	polls := 0
	reg(activities.GetDatastoreOperationName, func(context.Context, string) (flowdata.DatastoreOp, error) {
		polls++
		return op(states[min(polls, len(states))-1]), nil
	})
	reg(activities.CancelDatastoreOperationName, func(context.Context, activities.DatastoreCancelInput) error { return nil })
	reports := 0
	reg(activities.ReportDatastoreName, func(context.Context, activities.DatastoreReportInput) error {
		reports++
		if reports <= failReports {
			return errors.New("slack: 503")
		}
		return nil
	})
}

// fastDatastorePoll keeps recorded runs short.
var fastDatastorePoll = flowdata.DatastorePollPolicy{Initial: flowdata.Duration(50 * time.Millisecond), Max: flowdata.Duration(100 * time.Millisecond)}

func init() {
	replayCases = append(replayCases,
		replayCase{
			file: "datastore-export.json", name: DatastoreExportName, workflow: DatastoreExportWorkflow,
			register: func(w worker.Worker) {
				datastoreReplayStubs(w, 0, flowdata.DatastoreProcessing, flowdata.DatastoreFinalizing, flowdata.DatastoreSuccessful)
			},
			start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
				return c.ExecuteWorkflow(ctx, o, DatastoreExportName, flowdata.DatastoreExportInput{Project: "demo-project",
					OutputURLPrefix: "gs://b/p", Kinds: []string{"User"}, Poll: fastDatastorePoll})
			},
		},
		replayCase{
			file: "datastore-export-deadline.json", name: DatastoreExportName, workflow: DatastoreExportWorkflow,
			register: func(w worker.Worker) { datastoreReplayStubs(w, 0, flowdata.DatastoreProcessing) },
			start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
				return c.ExecuteWorkflow(ctx, o, DatastoreExportName, flowdata.DatastoreExportInput{Project: "demo-project",
					Bucket: "b", Poll: fastDatastorePoll, Deadline: flowdata.Duration(400 * time.Millisecond)})
			},
		},
		replayCase{
			file: "datastore-import.json", name: DatastoreImportName, workflow: DatastoreImportWorkflow,
			register: func(w worker.Worker) {
				datastoreReplayStubs(w, 1, flowdata.DatastoreProcessing, flowdata.DatastoreSuccessful)
			},
			start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
				return c.ExecuteWorkflow(ctx, o, DatastoreImportName, flowdata.DatastoreImportInput{Project: "demo-project",
					InputURL: "gs://b/p/p.overall_export_metadata", Poll: fastDatastorePoll})
			},
		},
	)
}
