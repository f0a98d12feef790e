package dsemu_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/datastore/admin/apiv1/adminpb"
	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/protobuf/proto"

	"github.com/vigilops/vigil/internal/localcloud/dsemu"
)

// TestOperationsSurviveARestart: with a DataDir, a new emulator on the same
// directory answers for the operations of the previous one with the same
// state, progress, labels and results, and an import of a finished export
// keeps its entity count.
func TestOperationsSurviveARestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := dsemu.NewManualClock(t0)
	opts := dsemu.Options{Now: clock.Now, Duration: 100 * time.Second, SlowDuration: 10 * time.Minute, DataDir: dir}
	first, err := dsemu.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	done, err := first.ExportEntities(ctx, &adminpb.ExportEntitiesRequest{ProjectId: "p", OutputUrlPrefix: "gs://b/done",
		Labels: map[string]string{dsemu.LabelEntities: "4242", "who": "test"}, EntityFilter: &adminpb.EntityFilter{Kinds: []string{"User"}}})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(30 * time.Second)
	slow, err := first.ExportEntities(ctx, &adminpb.ExportEntitiesRequest{ProjectId: "p", OutputUrlPrefix: "gs://b/slow",
		Labels: map[string]string{dsemu.LabelOutcome: dsemu.OutcomeSlow}})
	if err != nil {
		t.Fatal(err)
	}
	cancelled, err := first.ExportEntities(ctx, &adminpb.ExportEntitiesRequest{ProjectId: "p", OutputUrlPrefix: "gs://b/cancelled"})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * time.Second)
	if _, err := first.CancelOperation(ctx, &longrunningpb.CancelOperationRequest{Name: cancelled.GetName()}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(80 * time.Second)
	// Reading the finished export records its entity count for imports.
	finished, err := first.GetOperation(ctx, &longrunningpb.GetOperationRequest{Name: done.GetName()})
	if err != nil || !finished.GetDone() {
		t.Fatalf("first export after 120 s: %v %v", finished, err)
	}
	outputURL := exportResponse(t, finished)
	before := listAll(t, first)
	if len(before) != 3 {
		t.Fatalf("%d operations before the restart, want 3", len(before))
	}

	second, err := dsemu.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	after := listAll(t, second)
	if len(after) != len(before) {
		t.Fatalf("%d operations after the restart, want %d", len(after), len(before))
	}
	for i := range before {
		if !proto.Equal(before[i], after[i]) {
			t.Errorf("operation %d after the restart:\n%v\nwant\n%v", i, after[i], before[i])
		}
	}
	states := []adminpb.CommonMetadata_State{}
	for _, op := range after {
		states = append(states, exportMeta(t, op).GetCommon().GetState())
	}
	want := []adminpb.CommonMetadata_State{adminpb.CommonMetadata_SUCCESSFUL, adminpb.CommonMetadata_PROCESSING, adminpb.CommonMetadata_CANCELLED}
	if !slices.Equal(states, want) {
		t.Errorf("states after the restart = %v, want %v", states, want)
	}
	if got := exportMeta(t, after[0]).GetCommon().GetLabels()["who"]; got != "test" {
		t.Errorf("label who = %q after the restart", got)
	}

	// The slow one keeps running from its original start time.
	clock.Advance(10 * time.Minute)
	op, err := second.GetOperation(ctx, &longrunningpb.GetOperationRequest{Name: slow.GetName()})
	if err != nil || !op.GetDone() || exportMeta(t, op).GetCommon().GetState() != adminpb.CommonMetadata_SUCCESSFUL {
		t.Errorf("slow export an hour after its start: %v %v", op, err)
	}
	imp, err := second.ImportEntities(ctx, &adminpb.ImportEntitiesRequest{ProjectId: "p", InputUrl: outputURL})
	if err != nil {
		t.Fatal(err)
	}
	var im adminpb.ImportEntitiesMetadata
	if err := imp.GetMetadata().UnmarshalTo(&im); err != nil {
		t.Fatal(err)
	}
	if im.GetProgressEntities().GetWorkEstimated() != 4242-4242/300 {
		t.Errorf("import of the earlier export estimates %d entities, want the export's 4242 (less the estimate's shortfall)", im.GetProgressEntities().GetWorkEstimated())
	}
	for _, o := range before {
		if o.GetName() == imp.GetName() {
			t.Errorf("new operation reuses the name %s", o.GetName())
		}
	}

	// A deleted operation stays deleted.
	if _, err := second.DeleteOperation(ctx, &longrunningpb.DeleteOperationRequest{Name: cancelled.GetName()}); err != nil {
		t.Fatal(err)
	}
	third, err := dsemu.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := third.GetOperation(ctx, &longrunningpb.GetOperationRequest{Name: cancelled.GetName()}); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("deleted operation after a restart: %v", err)
	}
	if n := len(listAll(t, third)); n != 3 {
		t.Errorf("%d operations after the delete and a restart, want 3 (2 exports and the import)", n)
	}
}

// TestNoDataDirKeepsNothing: without a DataDir nothing is written and a new
// emulator starts empty.
func TestNoDataDirKeepsNothing(t *testing.T) {
	ctx := context.Background()
	s, err := dsemu.New(dsemu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ExportEntities(ctx, &adminpb.ExportEntitiesRequest{ProjectId: "p", OutputUrlPrefix: "gs://b"}); err != nil {
		t.Fatal(err)
	}
	s2, _ := dsemu.New(dsemu.Options{})
	if n := len(listAll(t, s2)); n != 0 {
		t.Errorf("new in-memory emulator lists %d operations", n)
	}
}

func listAll(t *testing.T, s *dsemu.Server) []*longrunningpb.Operation {
	t.Helper()
	resp, err := s.ListOperations(context.Background(), &longrunningpb.ListOperationsRequest{Name: "projects/p"})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetOperations()
}

func exportResponse(t *testing.T, op *longrunningpb.Operation) string {
	t.Helper()
	var r adminpb.ExportEntitiesResponse
	if err := op.GetResponse().UnmarshalTo(&r); err != nil {
		t.Fatal(err)
	}
	return r.GetOutputUrl()
}
