package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

func init() { register(datastoreExport{}) }

// datastoreExport: how soon the Slack report follows the end of a
// Datastore export, and how many GetOperation calls an export-hour costs,
// with the default adaptive poll policy against the replaced script's
// fixed 60 s polling.
type datastoreExport struct{}

func (datastoreExport) Name() string { return "datastore-export" }
func (datastoreExport) Title() string {
	return "Datastore export: operation done → Slack report, and polls"
}
func (datastoreExport) Describe() string {
	return "The DatastoreExport workflow run with Temporal's time skipping (workflow time, not wall time), its start, poll " +
		"and report activities replaced by a stub that follows the Datastore emulator's state model (INITIALIZING for the " +
		"first 10 % of the run, PROCESSING to 85 %, FINALIZING, then SUCCESSFUL at the end). Latency is workflow time from " +
		"the operation's end to the report activity's start, over exports ending every 0.5 s within the first minute " +
		"(quick: every 4.7 s) and every 97 s from 2 to 60 min (quick: none); GetOperation calls are those of one export " +
		"that ends after exactly one hour. Policy against the replaced fixed 60 s polling. It measures the poll policy " +
		"only: the real pipeline's own cost (poll activity, report activity, webhook POST through the real worker, server, " +
		"emulator and Slack sink) is under a second and is measured by `go test -bench DatastoreDoneToSlack ./internal/e2e`."
}

// fixed60 is the replaced script's policy: GetOperation every 60 s.
var fixed60 = flowdata.DatastorePollPolicy{Initial: flowdata.Duration(time.Minute), Max: flowdata.Duration(time.Minute)}

func (datastoreExport) Run(env *Env) ([]Measure, error) {
	step, long := 500*time.Millisecond, true
	if env.Quick {
		step, long = 4700*time.Millisecond, false // not a multiple of the policy's 5 s steps
	}
	type figures struct {
		short, long []float64
		hourPolls   float64
	}
	measure := func(policy flowdata.DatastorePollPolicy) (figures, error) {
		var f figures
		for d := step; d <= time.Minute; d += step {
			lat, _, err := simulateExport(policy, d, 2*time.Hour)
			if err != nil {
				return f, err
			}
			f.short = append(f.short, lat.Seconds())
		}
		for d := 2 * time.Minute; long && d <= time.Hour; d += 97 * time.Second {
			lat, _, err := simulateExport(policy, d, 2*time.Hour)
			if err != nil {
				return f, err
			}
			f.long = append(f.long, lat.Seconds())
		}
		_, polls, err := simulateExport(policy, time.Hour, 2*time.Hour)
		f.hourPolls = float64(polls)
		return f, err
	}
	adaptive, err := measure(flowdata.DatastorePollPolicy{})
	if err != nil {
		return nil, errorf("adaptive policy", err)
	}
	fixed, err := measure(fixed60)
	if err != nil {
		return nil, errorf("fixed 60 s polling", err)
	}
	out := []Measure{
		{Name: "operation done → Slack report, exports done in the first minute", Unit: "s", Vigil: adaptive.short,
			BaselineName: "fixed 60 s polling", Baseline: fixed.short, Goal: "p99 ≤ 5 s"},
		{Name: "GetOperation calls per export-hour", Unit: "calls", Vigil: []float64{adaptive.hourPolls},
			BaselineName: "fixed 60 s polling", Baseline: []float64{fixed.hourPolls}},
	}
	if long {
		out = append(out, Measure{Name: "operation done → Slack report, exports of 2–60 min", Unit: "s", Vigil: adaptive.long,
			BaselineName: "fixed 60 s polling", Baseline: fixed.long})
	}
	return out, nil
}

// simulateExport runs the export workflow with time skipping against an
// operation that is done after doneAfter and returns the workflow time
// from the operation's end to the Slack report, and the number of
// GetOperation calls.
func simulateExport(policy flowdata.DatastorePollPolicy, doneAfter, deadline time.Duration) (time.Duration, int, error) {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := s.NewTestWorkflowEnvironment()
	// A loaded machine must not fail the run by the 1 s deadlock detector.
	env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: 10 * time.Second})
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
	env.ExecuteWorkflow(workflows.DatastoreExportWorkflow, flowdata.DatastoreExportInput{Project: "demo-project", OutputURLPrefix: "gs://b/p",
		Poll: policy, Deadline: flowdata.Duration(deadline)})
	if !env.IsWorkflowCompleted() || reported.IsZero() {
		return 0, 0, fmt.Errorf("export done after %s was not reported: %v", doneAfter, env.GetWorkflowError())
	}
	return reported.Sub(start.Add(doneAfter)), polls, nil
}
