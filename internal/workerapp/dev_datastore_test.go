//go:build !nodev

package workerapp

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/workflows/flowdata"
)

// checkDemoDatastore: --dev starts one export of the demo project at start
// (and schedules a daily one); it succeeds against the emulator and the
// Slack sink shows its green report.
func checkDemoDatastore(t *testing.T, c client.Client, ep Endpoints) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var res flowdata.DatastoreResult
	if err := c.GetWorkflow(ctx, DemoDatastoreExportID, "").Get(ctx, &res); err != nil {
		t.Fatalf("demo Datastore export: %v", err)
	}
	if res.Outcome != flowdata.OutcomeSucceeded || !res.Reported || res.Operation.EntitiesDone == 0 {
		t.Errorf("demo export result %+v", res)
	}
	if _, err := c.ScheduleClient().GetHandle(ctx, "demo-datastore-export-daily").Describe(ctx); err != nil {
		t.Errorf("daily export schedule: %v", err)
	}
	green := greenReports(t, ep.CloudURL, "")
	if green != 1 {
		t.Errorf("%d green Datastore reports in the Slack sink, want 1", green)
	}
}
