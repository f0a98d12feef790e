package workflows

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// fixed60 is the replaced script's policy: GetOperation every 60 s.
var fixed60 = flowdata.DatastorePollPolicy{Initial: flowdata.Duration(time.Minute), Max: flowdata.Duration(time.Minute)}

// simulateExport runs the export workflow with time skipping against an
// operation that is done after doneAfter (INITIALIZING for the first 10%,
// PROCESSING to 85%, then FINALIZING, as the emulator does) and returns
// the workflow time from the operation's end to the Slack report, and the
// number of GetOperation calls.
func simulateExport(tb testing.TB, policy flowdata.DatastorePollPolicy, doneAfter, deadline time.Duration) (time.Duration, int) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(tolerantWorker)
	(&activities.Datastore{}).Register(env)
	start := env.Now()
	state := func() flowdata.DatastoreOp {
		e := env.Now().Sub(start)
		op := flowdata.DatastoreOp{Name: "projects/p/operations/o"}
		switch {
		case e >= doneAfter:
			op.State, op.Done = flowdata.DatastoreSuccessful, true
		case e >= doneAfter*85/100:
			op.State = flowdata.DatastoreFinalizing
		case e >= doneAfter/10:
			op.State = flowdata.DatastoreProcessing
		default:
			op.State = flowdata.DatastoreInitializing
		}
		return op
	}
	polls := 0
	var reported time.Time
	env.OnActivity(activities.StartDatastoreExportName, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.DatastoreStartInput) (flowdata.DatastoreOp, error) {
			return state(), nil
		})
	env.OnActivity(activities.GetDatastoreOperationName, mock.Anything, mock.Anything).Return(
		func(context.Context, string) (flowdata.DatastoreOp, error) { polls++; return state(), nil })
	env.OnActivity(activities.ReportDatastoreName, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.DatastoreReportInput) error { reported = env.Now(); return nil })
	env.ExecuteWorkflow(DatastoreExportWorkflow, flowdata.DatastoreExportInput{Project: "demo-project", OutputURLPrefix: "gs://b/p",
		Poll: policy, Deadline: flowdata.Duration(deadline)})
	if !env.IsWorkflowCompleted() || reported.IsZero() {
		tb.Fatalf("run of %s did not report: %v", doneAfter, env.GetWorkflowError())
	}
	return reported.Sub(start.Add(doneAfter)), polls
}

// BenchmarkDatastoreDoneToReport measures, in workflow time (time
// skipping), how long after the operation is done the Slack report is
// posted, for exports ending every 0.5 s over the first minute and for
// longer ones, with the adaptive default policy and the replaced fixed
// 60 s polling; and the GetOperation calls of an export-hour.
func BenchmarkDatastoreDoneToReport(b *testing.B) {
	for _, pc := range []struct {
		name   string
		policy flowdata.DatastorePollPolicy
	}{{"adaptive", flowdata.DatastorePollPolicy{}}, {"fixed60s", fixed60}} {
		b.Run(pc.name, func(b *testing.B) {
			var short, long []time.Duration
			var hourPolls int
			for b.Loop() {
				short, long = short[:0], long[:0]
				for d := 500 * time.Millisecond; d <= time.Minute; d += 500 * time.Millisecond {
					lat, _ := simulateExport(b, pc.policy, d, 2*time.Hour)
					short = append(short, lat)
				}
				for d := 2 * time.Minute; d <= time.Hour; d += 97 * time.Second {
					lat, _ := simulateExport(b, pc.policy, d, 2*time.Hour)
					long = append(long, lat)
				}
				// An export-hour: done at exactly 60 min.
				_, hourPolls = simulateExport(b, pc.policy, time.Hour, 2*time.Hour)
			}
			slices.Sort(short)
			slices.Sort(long)
			pct := func(v []time.Duration, p int) float64 { return v[min(len(v)-1, len(v)*p/100)].Seconds() }
			b.ReportMetric(pct(short, 50), "p50-s-first-minute")
			b.ReportMetric(pct(short, 99), "p99-s-first-minute")
			b.ReportMetric(pct(long, 50), "p50-s-longer")
			b.ReportMetric(pct(long, 100), "max-s-longer")
			b.ReportMetric(float64(hourPolls), "GetOperation/export-hour")
			b.ReportMetric(0, "ns/op")
		})
	}
}
