package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// tolerantWorker raises the deadlock detector's limit from 1 s: the first
// workflow task of a test process (lazy protobuf and converter set-up)
// can take longer than that on a loaded 2-core CI machine. A real
// deadlock still fails, after 10 s.
var tolerantWorker = worker.Options{DeadlockDetectionTimeout: 10 * time.Second}

const dsOpName = "projects/demo-project/operations/OP1"

// dsFake scripts a Datastore operation for workflow tests: GetOperation
// returns states[i] on the i-th poll (the last one repeats).
type dsFake struct {
	t       *testing.T
	env     *testsuite.TestWorkflowEnvironment
	states  []string
	polls   int
	starts  int
	cancels []activities.DatastoreCancelInput
	reports []activities.DatastoreReportInput
	// reportErrs are returned by the first report attempts.
	reportErrs []error
	// pollTimes are the workflow times of the polls, from the start.
	pollTimes []time.Duration
	begin     time.Time
	// pollErr, when set, fails every GetOperation (retryably).
	pollErr error
	// startFn, when set, answers the start instead of the script.
	startFn func(activities.DatastoreStartInput) (flowdata.DatastoreOp, error)
}

func newDatastoreEnv(t *testing.T, states ...string) *dsFake {
	env := newTestEnv(t)
	env.SetWorkerOptions(summaryChecked(t, tolerantWorker))
	(&activities.Datastore{}).Register(env)
	(&activities.Slack{}).Register(env)
	f := &dsFake{t: t, env: env, states: states, begin: env.Now()}
	snap := func(state string) flowdata.DatastoreOp {
		op := flowdata.DatastoreOp{Name: dsOpName, Type: "EXPORT_ENTITIES", State: state, EntitiesEstimated: 1000, BytesEstimated: 758000,
			Start: f.begin, OutputURLPrefix: "gs://b/p"}
		switch state {
		case flowdata.DatastoreProcessing:
			op.EntitiesDone, op.BytesDone = 400, 303200
		case flowdata.DatastoreFinalizing:
			op.EntitiesDone, op.BytesDone = 990, 750420
		case flowdata.DatastoreSuccessful:
			op.Done, op.EntitiesDone, op.BytesDone, op.OutputURL = true, 1004, 761032, "gs://b/p/p.overall_export_metadata"
		case flowdata.DatastoreFailed:
			op.Done, op.Error, op.ErrorCode = true, "disk on fire", "Internal"
		case flowdata.DatastoreCancelled:
			op.Done, op.Error, op.ErrorCode = true, "The operation was cancelled.", "Canceled"
		}
		if op.Done {
			op.End = env.Now()
		}
		return op
	}
	start := func(_ context.Context, in activities.DatastoreStartInput) (flowdata.DatastoreOp, error) {
		f.starts++
		if f.startFn != nil {
			return f.startFn(in)
		}
		if in.RunID == "" || in.Project != "demo-project" {
			t.Errorf("start input %+v", in)
		}
		return snap(flowdata.DatastoreInitializing), nil
	}
	env.OnActivity(activities.StartDatastoreExportName, mock.Anything, mock.Anything).Return(start).Maybe()
	env.OnActivity(activities.StartDatastoreImportName, mock.Anything, mock.Anything).Return(start).Maybe()
	env.OnActivity(activities.GetDatastoreOperationName, mock.Anything, mock.Anything).Return(func(_ context.Context, name string) (flowdata.DatastoreOp, error) {
		if name != dsOpName {
			t.Errorf("GetOperation(%q)", name)
		}
		if f.pollErr != nil {
			return flowdata.DatastoreOp{}, f.pollErr
		}
		f.pollTimes = append(f.pollTimes, env.Now().Sub(f.begin))
		st := f.states[min(f.polls, len(f.states)-1)]
		f.polls++
		return snap(st), nil
	}).Maybe()
	env.OnActivity(activities.CancelDatastoreOperationName, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.DatastoreCancelInput) error {
		f.cancels = append(f.cancels, in)
		f.states = []string{flowdata.DatastoreCancelled}
		f.polls = 0
		return nil
	}).Maybe()
	env.OnActivity(activities.ReportDatastoreName, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.DatastoreReportInput) error {
		if len(f.reportErrs) > 0 {
			err := f.reportErrs[0]
			f.reportErrs = f.reportErrs[1:]
			return err
		}
		f.reports = append(f.reports, in)
		return nil
	}).Maybe()
	return f
}

func (f *dsFake) export(in flowdata.DatastoreExportInput) (flowdata.DatastoreResult, error) {
	if in.Project == "" {
		in.Project = "demo-project"
	}
	if in.OutputURLPrefix == "" && in.Bucket == "" {
		in.OutputURLPrefix = "gs://b/p"
	}
	f.env.ExecuteWorkflow(DatastoreExportWorkflow, in)
	if !f.env.IsWorkflowCompleted() {
		f.t.Fatal("workflow did not complete")
	}
	var res flowdata.DatastoreResult
	err := f.env.GetWorkflowResult(&res)
	return res, err
}

// oneReport checks that exactly one report was posted, with outcome.
func (f *dsFake) oneReport(outcome string) activities.DatastoreReportInput {
	f.t.Helper()
	if len(f.reports) != 1 {
		f.t.Fatalf("%d reports, want 1: %+v", len(f.reports), f.reports)
	}
	if r := f.reports[0]; r.Outcome != outcome {
		f.t.Fatalf("report outcome %q, want %q", r.Outcome, outcome)
	}
	return f.reports[0]
}

func errDetails(t *testing.T, err error, wantType string) flowdata.DatastoreResult {
	t.Helper()
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != wantType {
		t.Fatalf("error %v, want application error of type %s", err, wantType)
	}
	var res flowdata.DatastoreResult
	if err := ae.Details(&res); err != nil {
		t.Fatalf("details: %v", err)
	}
	return res
}

func TestDatastoreExportSucceedsThroughEveryState(t *testing.T) {
	f := newDatastoreEnv(t, flowdata.DatastoreInitializing, flowdata.DatastoreProcessing, flowdata.DatastoreFinalizing,
		flowdata.DatastoreFinalizing, flowdata.DatastoreSuccessful)
	var mid Status
	f.env.RegisterDelayedCallback(func() {
		v, err := f.env.QueryWorkflow(StatusQuery)
		if err != nil {
			t.Error(err)
			return
		}
		if err := v.Get(&mid); err != nil {
			t.Error(err)
		}
	}, 11*time.Second)
	res, err := f.export(flowdata.DatastoreExportInput{Report: flowdata.DatastoreReport{TimeZone: "Europe/Paris"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != flowdata.OutcomeSucceeded || res.Polls != 5 || !res.Reported || res.Operation.EntitiesDone != 1004 {
		t.Errorf("result %+v", res)
	}
	// Five polls, 5 s apart within the first minute: done seen at 25 s.
	if res.Elapsed.D() != 25*time.Second || f.starts != 1 {
		t.Errorf("elapsed %s, starts %d", res.Elapsed, f.starts)
	}
	if mid.Details["state"] != flowdata.DatastoreProcessing || mid.Details["entities"] != "400/1000" || mid.Phase != PhaseWaiting {
		t.Errorf("status at 11s: %+v", mid)
	}
	r := f.oneReport(flowdata.OutcomeSucceeded)
	if r.Op.OutputURL != "gs://b/p/p.overall_export_metadata" || r.Report.TimeZone != "Europe/Paris" || r.Action != "export" || r.RunID == "" {
		t.Errorf("report %+v", r)
	}
}

func TestDatastoreExportDefaultFolderUnderBucket(t *testing.T) {
	f := newDatastoreEnv(t, flowdata.DatastoreSuccessful)
	var prefix string
	f.startFn = func(in activities.DatastoreStartInput) (flowdata.DatastoreOp, error) {
		prefix = in.OutputURLPrefix
		return flowdata.DatastoreOp{Name: dsOpName, State: flowdata.DatastoreInitializing}, nil
	}
	f.env.SetStartTime(time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC))
	if _, err := f.export(flowdata.DatastoreExportInput{Bucket: "backups"}); err != nil {
		t.Fatal(err)
	}
	if prefix != "gs://backups/datastore/2026-12-01T03-00-00Z" {
		t.Errorf("prefix %q", prefix)
	}
}

func TestDatastoreExportFailure(t *testing.T) {
	f := newDatastoreEnv(t, flowdata.DatastoreProcessing, flowdata.DatastoreFailed)
	_, err := f.export(flowdata.DatastoreExportInput{})
	res := errDetails(t, err, ErrTypeDatastoreFailed)
	if res.Outcome != flowdata.OutcomeFailed || res.Operation.Error != "disk on fire" {
		t.Errorf("result %+v", res)
	}
	r := f.oneReport(flowdata.OutcomeFailed)
	if r.Op.Name != dsOpName || r.Error == "" {
		t.Errorf("report %+v", r)
	}
}

func TestDatastoreExportFailsToStart(t *testing.T) {
	f := newDatastoreEnv(t)
	f.startFn = func(activities.DatastoreStartInput) (flowdata.DatastoreOp, error) {
		return flowdata.DatastoreOp{}, activities.BadInput("INVALID_ARGUMENT: bad prefix")
	}
	_, err := f.export(flowdata.DatastoreExportInput{})
	if err == nil || f.polls != 0 {
		t.Fatalf("err %v, polls %d", err, f.polls)
	}
	if r := f.oneReport(flowdata.OutcomeFailed); r.Op.Name != "" {
		t.Errorf("report %+v", r)
	}
}

func TestDatastoreExportBadInputReportsWithoutStarting(t *testing.T) {
	f := newDatastoreEnv(t)
	_, err := f.export(flowdata.DatastoreExportInput{Project: "Bad_Project"})
	errDetails(t, err, ErrTypeDatastoreFailed)
	var ae, cause *temporal.ApplicationError
	if !errors.As(err, &ae) || !errors.As(ae.Unwrap(), &cause) || cause.Type() != activities.ErrTypeBadInput || f.starts != 0 {
		t.Fatalf("err %v (cause %v), starts %d", err, cause, f.starts)
	}
	f.oneReport(flowdata.OutcomeFailed)
}

func TestDatastoreExportDeadline(t *testing.T) {
	f := newDatastoreEnv(t, flowdata.DatastoreProcessing)
	_, err := f.export(flowdata.DatastoreExportInput{Deadline: flowdata.Duration(10 * time.Minute)})
	res := errDetails(t, err, ErrTypeDeadlineExceeded)
	if res.Outcome != flowdata.OutcomeDeadline || res.Elapsed.D() != 10*time.Minute {
		t.Errorf("result %+v", res)
	}
	r := f.oneReport(flowdata.OutcomeDeadline)
	if r.Op.State != flowdata.DatastoreProcessing || r.Op.EntitiesDone != 400 || r.Deadline.D() != 10*time.Minute {
		t.Errorf("report %+v", r)
	}
	if len(f.cancels) != 0 {
		t.Errorf("the deadline cancelled the operation: %+v", f.cancels)
	}
}

func TestDatastoreExportFinishingAtTheDeadlineSucceeds(t *testing.T) {
	f := newDatastoreEnv(t, flowdata.DatastoreProcessing)
	f.env.RegisterDelayedCallback(func() { f.states = []string{flowdata.DatastoreSuccessful}; f.polls = 0 }, 599*time.Second)
	res, err := f.export(flowdata.DatastoreExportInput{Deadline: flowdata.Duration(10 * time.Minute)})
	if err != nil || res.Outcome != flowdata.OutcomeSucceeded {
		t.Fatalf("res %+v, err %v", res, err)
	}
	f.oneReport(flowdata.OutcomeSucceeded)
}

func TestDatastoreExportCancelCancelsTheOperation(t *testing.T) {
	f := newDatastoreEnv(t, flowdata.DatastoreProcessing)
	f.env.RegisterDelayedCallback(f.env.CancelWorkflow, 3*time.Minute)
	_, err := f.export(flowdata.DatastoreExportInput{})
	var ce *temporal.CanceledError
	if !errors.As(err, &ce) {
		t.Fatalf("err %v, want cancelled", err)
	}
	if len(f.cancels) != 1 || f.cancels[0].Name != dsOpName {
		t.Fatalf("cancels %+v", f.cancels)
	}
	if r := f.oneReport(flowdata.OutcomeCancelled); r.Op.State != flowdata.DatastoreCancelled {
		t.Errorf("report %+v", r)
	}
}

func TestDatastoreExportCancelledElsewhere(t *testing.T) {
	f := newDatastoreEnv(t, flowdata.DatastoreProcessing, flowdata.DatastoreCancelled)
	_, err := f.export(flowdata.DatastoreExportInput{})
	errDetails(t, err, ErrTypeDatastoreCancelled)
	f.oneReport(flowdata.OutcomeCancelled)
	if len(f.cancels) != 0 {
		t.Errorf("cancels %+v", f.cancels)
	}
}

func TestDatastoreExportSlackOutageIsRetriedAndNeverFailsTheExport(t *testing.T) {
	f := newDatastoreEnv(t, flowdata.DatastoreSuccessful)
	f.reportErrs = []error{errors.New("slack: 503"), errors.New("slack: connection refused"), errors.New("slack: 500")}
	res, err := f.export(flowdata.DatastoreExportInput{})
	if err != nil || !res.Reported {
		t.Fatalf("res %+v, err %v", res, err)
	}
	f.oneReport(flowdata.OutcomeSucceeded)

	f = newDatastoreEnv(t, flowdata.DatastoreSuccessful)
	f.reportErrs = []error{activities.ConfigError("slack: environment variable X is not set on the worker")}
	res, err = f.export(flowdata.DatastoreExportInput{})
	if err != nil || res.Reported || res.Outcome != flowdata.OutcomeSucceeded {
		t.Fatalf("unpostable report: res %+v, err %v", res, err)
	}
}

func TestDatastoreExportRetriedStartStartsOnce(t *testing.T) {
	f := newDatastoreEnv(t, flowdata.DatastoreSuccessful)
	var runIDs []string
	f.startFn = func(in activities.DatastoreStartInput) (flowdata.DatastoreOp, error) {
		runIDs = append(runIDs, in.RunID)
		if len(runIDs) == 1 {
			return flowdata.DatastoreOp{}, errors.New("UNAVAILABLE: connection reset after the export started")
		}
		return flowdata.DatastoreOp{Name: dsOpName, State: flowdata.DatastoreProcessing, Adopted: true}, nil
	}
	res, err := f.export(flowdata.DatastoreExportInput{})
	if err != nil || res.Outcome != flowdata.OutcomeSucceeded {
		t.Fatalf("res %+v, err %v", res, err)
	}
	// Both attempts carry the same run label: the activity adopts the
	// export of the first (tested against the emulator in activities).
	if len(runIDs) != 2 || runIDs[0] != runIDs[1] || runIDs[0] == "" {
		t.Errorf("run ids %q", runIDs)
	}
}

func TestDatastoreExportSignalSavesAPoll(t *testing.T) {
	f := newDatastoreEnv(t, flowdata.DatastoreProcessing)
	f.env.RegisterDelayedCallback(func() {
		f.env.SignalWorkflow(DatastoreOperationSignal, flowdata.DatastoreOp{Name: "projects/x/operations/other", Done: true, State: flowdata.DatastoreFailed})
		f.env.SignalWorkflow(DatastoreOperationSignal, flowdata.DatastoreOp{Name: dsOpName, Done: true, State: flowdata.DatastoreSuccessful, EntitiesDone: 7})
	}, 2*time.Minute)
	res, err := f.export(flowdata.DatastoreExportInput{})
	if err != nil || res.Operation.EntitiesDone != 7 || res.Elapsed.D() != 2*time.Minute {
		t.Fatalf("res %+v, err %v", res, err)
	}
}

func TestDatastoreImport(t *testing.T) {
	f := newDatastoreEnv(t, flowdata.DatastoreProcessing, flowdata.DatastoreSuccessful)
	f.env.ExecuteWorkflow(DatastoreImportWorkflow, flowdata.DatastoreImportInput{Project: "demo-project", InputURL: "gs://b/p/p.overall_export_metadata"})
	var res flowdata.DatastoreResult
	if err := f.env.GetWorkflowResult(&res); err != nil || res.Outcome != flowdata.OutcomeSucceeded {
		t.Fatalf("res %+v, err %v", res, err)
	}
	if r := f.oneReport(flowdata.OutcomeSucceeded); r.Action != "import" {
		t.Errorf("report %+v", r)
	}
}
