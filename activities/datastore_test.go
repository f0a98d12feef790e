package activities_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/localcloud/dsemu"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// datastoreEnv serves the emulator (manual clock, 100 s operations) and
// registers the Datastore activities with a real admin client for it.
func datastoreEnv(t *testing.T) (*testsuite.TestActivityEnvironment, *dsemu.ManualClock, activities.DatastoreAdminAPI) {
	t.Helper()
	clock := dsemu.NewManualClock(time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC))
	l, err := dsemu.Listen("127.0.0.1:0", dsemu.Options{Now: clock.Now, Duration: 100 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	c, err := activities.DialDatastoreAdmin(context.Background(), l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	(&activities.Datastore{Dial: func(context.Context) (activities.DatastoreAdminAPI, error) { return c, nil }}).Register(env)
	return env, clock, c
}

func getOp(t *testing.T, v interface{ Get(any) error }, err error) flowdata.DatastoreOp {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	var op flowdata.DatastoreOp
	if err := v.Get(&op); err != nil {
		t.Fatal(err)
	}
	return op
}

func TestDatastoreRetriedStartAdoptsTheRunsExport(t *testing.T) {
	env, clock, c := datastoreEnv(t)
	in := activities.DatastoreStartInput{Project: "demo-project", RunID: "run-1", OutputURLPrefix: "gs://backups/x", Kinds: []string{"User"}}
	v, err := env.ExecuteActivity(activities.StartDatastoreExportName, in)
	first := getOp(t, v, err)
	if first.Name == "" || first.Adopted || first.State != flowdata.DatastoreInitializing || first.Labels[flowdata.DatastoreRunLabel] != "run-1" {
		t.Fatalf("first start %+v", first)
	}
	clock.Advance(30 * time.Second)
	// The retry (same run) adopts it; another run starts its own.
	v, err = env.ExecuteActivity(activities.StartDatastoreExportName, in)
	again := getOp(t, v, err)
	if again.Name != first.Name || !again.Adopted || again.State != flowdata.DatastoreProcessing {
		t.Fatalf("retried start %+v, want the adoption of %s", again, first.Name)
	}
	in.RunID = "run-2"
	v, err = env.ExecuteActivity(activities.StartDatastoreExportName, in)
	if other := getOp(t, v, err); other.Name == first.Name || other.Adopted {
		t.Fatalf("another run's start %+v", other)
	}
	ops, err := activities.ListOperations(context.Background(), c, "demo-project", "")
	if err != nil || len(ops) != 2 {
		t.Fatalf("%d operations (%v), want 2", len(ops), err)
	}
}

func TestDatastoreGetAndCancel(t *testing.T) {
	env, clock, _ := datastoreEnv(t)
	v, err := env.ExecuteActivity(activities.StartDatastoreExportName, activities.DatastoreStartInput{Project: "demo-project", RunID: "r", OutputURLPrefix: "gs://b/p"})
	op := getOp(t, v, err)
	clock.Advance(90 * time.Second)
	v, err = env.ExecuteActivity(activities.GetDatastoreOperationName, op.Name)
	got := getOp(t, v, err)
	if got.State != flowdata.DatastoreFinalizing || got.EntitiesDone == 0 || got.EntitiesEstimated == 0 || got.BytesDone == 0 ||
		got.OutputURLPrefix != "gs://b/p" || got.Type != "EXPORT_ENTITIES" || got.Start.IsZero() {
		t.Errorf("snapshot %+v", got)
	}
	// Cancel by the run's label (the start never reported a name).
	if _, err := env.ExecuteActivity(activities.CancelDatastoreOperationName, activities.DatastoreCancelInput{Project: "demo-project", RunID: "r"}); err != nil {
		t.Fatal(err)
	}
	v, err = env.ExecuteActivity(activities.GetDatastoreOperationName, op.Name)
	if got := getOp(t, v, err); got.State != flowdata.DatastoreCancelled || !got.Done || got.ErrorCode != codes.Canceled.String() {
		t.Errorf("after cancel %+v", got)
	}
	// Cancelling again (done) and cancelling a run without operation are no-ops.
	if _, err := env.ExecuteActivity(activities.CancelDatastoreOperationName, activities.DatastoreCancelInput{Name: op.Name}); err != nil {
		t.Errorf("second cancel: %v", err)
	}
	if _, err := env.ExecuteActivity(activities.CancelDatastoreOperationName, activities.DatastoreCancelInput{Project: "demo-project", RunID: "none"}); err != nil {
		t.Errorf("cancel without operation: %v", err)
	}
}

func TestDatastoreErrorsAreClassified(t *testing.T) {
	env, _, _ := datastoreEnv(t)
	_, err := env.ExecuteActivity(activities.StartDatastoreExportName, activities.DatastoreStartInput{Project: "demo-project", RunID: "r", OutputURLPrefix: "s3://nope"})
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != activities.ErrTypeBadInput || !ae.NonRetryable() {
		t.Errorf("bad prefix: %v", err)
	}
	_, err = env.ExecuteActivity(activities.GetDatastoreOperationName, "projects/demo-project/operations/gone")
	if !errors.As(err, &ae) || ae.Type() != activities.ErrTypeNotFound || !ae.NonRetryable() {
		t.Errorf("unknown operation: %v", err)
	}
	for code, want := range map[codes.Code]string{codes.PermissionDenied: activities.ErrTypeAccessDenied, codes.Unavailable: "", codes.ResourceExhausted: ""} {
		err := activities.ClassifyGRPC("op", status.Error(code, "x"))
		isApp := errors.As(err, &ae)
		if (want == "" && isApp) || (want != "" && (!isApp || ae.Type() != want || !ae.NonRetryable())) {
			t.Errorf("%s classified as %v", code, err)
		}
	}
}

func TestDatastoreMessage(t *testing.T) {
	start := time.Date(2026, 11, 30, 18, 0, 2, 0, time.UTC)
	op := flowdata.DatastoreOp{Name: "projects/p/operations/o", State: flowdata.DatastoreSuccessful, Start: start, End: start.Add(7 * time.Minute),
		EntitiesDone: 1284733, EntitiesEstimated: 1280000, BytesDone: 973742390, OutputURL: "gs://b/x/x.overall_export_metadata"}
	in := activities.DatastoreReportInput{Action: "export", Outcome: flowdata.OutcomeSucceeded, Project: "p", Op: op, RunID: "r1"}
	m := activities.DatastoreMessage(in)
	field := func(m activities.SlackMessage, title string) string {
		for _, f := range m.Fields {
			if f.Title == title {
				return f.Value
			}
		}
		return ""
	}
	if m.Color != activities.SlackGood || field(m, "Start") != "2026-12-01 03:00:02 JST" || field(m, "Entities") != "1,284,733" ||
		field(m, "Output URL") != op.OutputURL || !strings.Contains(m.Footer, "r1") || !strings.Contains(field(m, "Bytes"), "973.7 MB") {
		t.Errorf("green message %+v", m)
	}
	in.Outcome, in.Error, in.Op.State = flowdata.OutcomeFailed, "INTERNAL: boom", flowdata.DatastoreFailed
	m = activities.DatastoreMessage(in)
	if m.Color != activities.SlackDanger || field(m, "Hint") != "gcloud datastore operations describe projects/p/operations/o --project p" || field(m, "Error") == "" {
		t.Errorf("red message %+v", m)
	}
	in.Outcome, in.Op.State, in.Op.EntitiesDone, in.Deadline = flowdata.OutcomeDeadline, flowdata.DatastoreProcessing, 640000, flowdata.Duration(time.Hour)
	in.Report.TimeZone = "UTC"
	m = activities.DatastoreMessage(in)
	if m.Color != activities.SlackWarning || field(m, "Progress") != "640,000 of ~1,280,000 entities (50%)" || field(m, "Start") != "2026-11-30 18:00:02 UTC" || field(m, "Hint") == "" {
		t.Errorf("orange message %+v", m)
	}
	// The orange report names where the export writes, as the green one
	// does: the output URL once known, else the operation's prefix.
	if field(m, "Output URL") != op.OutputURL {
		t.Errorf("orange message names output URL %q, want %q", field(m, "Output URL"), op.OutputURL)
	}
	in.Op.OutputURL, in.Op.OutputURLPrefix = "", "gs://b/x"
	if m = activities.DatastoreMessage(in); field(m, "Output URL") != "gs://b/x" {
		t.Errorf("orange message before the output URL is known names %q, want the prefix gs://b/x", field(m, "Output URL"))
	}
	in.Outcome = flowdata.OutcomeCancelled
	if m = activities.DatastoreMessage(in); m.Color != activities.SlackGrey {
		t.Errorf("grey message %+v", m)
	}
}
