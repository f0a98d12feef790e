package workerapp

import (
	"context"
	"fmt"
	"log/slog"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// DemoDatastoreProject is the --dev emulator's demo project.
const DemoDatastoreProject = "demo-project"

// DemoDatastoreBucket is where demo exports go (the emulator writes no
// files; the URLs are what the reports show).
const DemoDatastoreBucket = "demo-datastore-backups"

// demoDatastoreSchedules is the daily export of the demo project, at 03:00
// Tokyo time like the replaced GAE cron.
const demoDatastoreSchedules = `
schedules:
  - id: demo-datastore-export-daily
    cron: "0 3 * * *"
    timezone: Asia/Tokyo
    workflow: datastore-export
    note: vigil demo — daily Datastore export of demo-project with a Slack report
    input:
      project: ` + DemoDatastoreProject + `
      bucket: ` + DemoDatastoreBucket + `
      labels: {scheduled-by: vigil}
      report: {timeZone: Asia/Tokyo}
`

// DemoDatastoreExportID is the workflow ID of the export --dev starts.
const DemoDatastoreExportID = "demo-datastore-export"

// installDatastoreFixtures applies the daily export schedule and starts one
// export now (the emulator finishes it in 20 s, so the Slack sink shows a
// green report within a minute of the start).
func installDatastoreFixtures(ctx context.Context, c client.Client, taskQueue string, logger *slog.Logger) error {
	if err := applyDemoSchedules(ctx, c, demoDatastoreSchedules, taskQueue, logger); err != nil {
		return fmt.Errorf("datastore demo schedule: %w", err)
	}
	in := flowdata.DatastoreExportInput{
		Project: DemoDatastoreProject, Bucket: DemoDatastoreBucket, Labels: map[string]string{"started-by": "vigil-dev"},
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: DemoDatastoreExportID, TaskQueue: taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            in.StaticSummary(),
		StaticDetails:            flowdata.StaticDetails(in),
	}, workflows.DatastoreExportName, in)
	if err != nil {
		return fmt.Errorf("datastore demo export: %w", err)
	}
	logger.Info("demo Datastore export started", "workflowId", run.GetID(), "runId", run.GetRunID())
	return nil
}
