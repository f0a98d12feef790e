package dsemu_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	admin "cloud.google.com/go/datastore/admin/apiv1"
	"cloud.google.com/go/datastore/admin/apiv1/adminpb"
	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/vigilops/vigil/internal/localcloud/dsemu"
)

var t0 = time.Date(2026, 11, 20, 18, 0, 2, 114e6, time.UTC)

// start serves an emulator on a free port with a manual clock and returns
// a real admin client for it.
func start(t *testing.T, opts dsemu.Options) (*admin.DatastoreAdminClient, *dsemu.ManualClock, *dsemu.Listener) {
	t.Helper()
	clock := dsemu.NewManualClock(t0)
	opts.Now = clock.Now
	l, err := dsemu.Listen("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	c, err := admin.NewDatastoreAdminClient(context.Background(), option.WithEndpoint(l.Addr()), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, clock, l
}

func exportMeta(t *testing.T, op *longrunningpb.Operation) *adminpb.ExportEntitiesMetadata {
	t.Helper()
	var m adminpb.ExportEntitiesMetadata
	if err := op.GetMetadata().UnmarshalTo(&m); err != nil {
		t.Fatal(err)
	}
	return &m
}

func TestExportGoesThroughTheStates(t *testing.T) {
	ctx := context.Background()
	c, clock, _ := start(t, dsemu.Options{Duration: 100 * time.Second, Entities: 300000})
	op, err := c.ExportEntities(ctx, &adminpb.ExportEntitiesRequest{ProjectId: "demo-project", OutputUrlPrefix: "gs://example-backups/datastore/2026-11-20T18:00:00Z",
		Labels: map[string]string{"scheduled-by": "vigil"}, EntityFilter: &adminpb.EntityFilter{Kinds: []string{"User", "Order"}, NamespaceIds: []string{""}}})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := op.Metadata(); err != nil || m.GetCommon().GetState() != adminpb.CommonMetadata_INITIALIZING || op.Done() {
		t.Fatalf("first state %v (%v)", m, err)
	}
	var seen []adminpb.CommonMetadata_State
	for _, at := range []time.Duration{5, 30, 90, 100} {
		clock.Advance(at*time.Second - clock.Now().Sub(t0))
		raw, err := c.GetOperation(ctx, &longrunningpb.GetOperationRequest{Name: op.Name()})
		if err != nil {
			t.Fatal(err)
		}
		m := exportMeta(t, raw)
		seen = append(seen, m.GetCommon().GetState())
		if m.GetProgressEntities().GetWorkEstimated() == 0 || m.GetOutputUrlPrefix() == "" {
			t.Errorf("metadata %v", m)
		}
	}
	want := []adminpb.CommonMetadata_State{adminpb.CommonMetadata_INITIALIZING, adminpb.CommonMetadata_PROCESSING,
		adminpb.CommonMetadata_FINALIZING, adminpb.CommonMetadata_SUCCESSFUL}
	if !slices.Equal(seen, want) {
		t.Fatalf("states %v, want %v", seen, want)
	}
	// The client's own Poll sees the result.
	resp, err := op.Poll(ctx)
	if err != nil || !op.Done() {
		t.Fatalf("poll: %v, done %v", err, op.Done())
	}
	if resp.GetOutputUrl() != "gs://example-backups/datastore/2026-11-20T18:00:00Z/2026-11-20T18:00:00Z.overall_export_metadata" {
		t.Errorf("output URL %q", resp.GetOutputUrl())
	}
	m, _ := op.Metadata()
	if p := m.GetProgressEntities(); p.GetWorkCompleted() != 300000 || p.GetWorkCompleted() <= p.GetWorkEstimated() {
		t.Errorf("entities %v: want all 300000, above the estimate", p)
	}
	if !m.GetCommon().GetEndTime().AsTime().Equal(t0.Add(100 * time.Second)) {
		t.Errorf("end %v", m.GetCommon().GetEndTime().AsTime())
	}
}

// keyPaths lists the object keys of a JSON document as dotted paths.
func keyPaths(v any, prefix string, out map[string]bool) {
	if m, ok := v.(map[string]any); ok {
		for k, c := range m {
			out[prefix+k] = true
			if k != "labels" { // label keys are data
				keyPaths(c, prefix+k+".", out)
			}
		}
	}
}

func TestOperationJSONMatchesTheSample(t *testing.T) {
	ctx := context.Background()
	c, clock, _ := start(t, dsemu.Options{Duration: time.Minute})
	op, err := c.ExportEntities(ctx, &adminpb.ExportEntitiesRequest{ProjectId: "example-project", OutputUrlPrefix: "gs://example-backups/datastore/2026-11-20T18:00:00Z",
		Labels: map[string]string{"scheduled-by": "vigil"}, EntityFilter: &adminpb.EntityFilter{Kinds: []string{"User", "Order"}, NamespaceIds: []string{""}}})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	raw, err := c.GetOperation(ctx, &longrunningpb.GetOperationRequest{Name: op.Name()})
	if err != nil {
		t.Fatal(err)
	}
	b, err := protojson.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	sample, err := os.ReadFile("testdata/datastore-export-operation.json")
	if err != nil {
		t.Fatal(err)
	}
	var got, want map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(sample, &want); err != nil {
		t.Fatal(err)
	}
	gp, wp := map[string]bool{}, map[string]bool{}
	keyPaths(got, "", gp)
	keyPaths(want, "", wp)
	if !mapsEqual(gp, wp) {
		t.Errorf("JSON keys differ from the sample:\n got %v\nwant %v", sorted(gp), sorted(wp))
	}
	meta := got["metadata"].(map[string]any)
	common := meta["common"].(map[string]any)
	if common["state"] != "SUCCESSFUL" || common["operationType"] != "EXPORT_ENTITIES" || got["done"] != true ||
		meta["@type"] != want["metadata"].(map[string]any)["@type"] || got["response"].(map[string]any)["@type"] != want["response"].(map[string]any)["@type"] {
		t.Errorf("rendered %s", b)
	}
	if _, isString := meta["progressEntities"].(map[string]any)["workCompleted"].(string); !isString {
		t.Errorf("int64 progress must render as a JSON string: %s", b)
	}
}

func mapsEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func sorted(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestValidationErrors(t *testing.T) {
	ctx := context.Background()
	c, _, _ := start(t, dsemu.Options{})
	code := func(err error) codes.Code { return status.Code(err) }
	_, err := c.ExportEntities(ctx, &adminpb.ExportEntitiesRequest{OutputUrlPrefix: "gs://b"})
	if code(err) != codes.InvalidArgument {
		t.Errorf("empty project: %v", err)
	}
	_, err = c.ExportEntities(ctx, &adminpb.ExportEntitiesRequest{ProjectId: "demo-project", OutputUrlPrefix: "s3://b/x"})
	if code(err) != codes.InvalidArgument {
		t.Errorf("s3 prefix: %v", err)
	}
	_, err = c.ImportEntities(ctx, &adminpb.ImportEntitiesRequest{ProjectId: "demo-project", InputUrl: "gs://b/x/whatever.json"})
	if code(err) != codes.InvalidArgument {
		t.Errorf("import of a non-metadata file: %v", err)
	}
	_, err = c.ImportEntities(ctx, &adminpb.ImportEntitiesRequest{ProjectId: "demo-project", InputUrl: "gs://b/never/never.overall_export_metadata"})
	if code(err) != codes.NotFound || !strings.Contains(err.Error(), "gs://b/never/never.overall_export_metadata") {
		t.Errorf("import of a metadata file no export wrote: %v, want NotFound naming it", err)
	}
	_, err = c.GetOperation(ctx, &longrunningpb.GetOperationRequest{Name: "projects/demo-project/operations/nope"})
	if code(err) != codes.NotFound {
		t.Errorf("unknown operation: %v", err)
	}
	err = c.CancelOperation(ctx, &longrunningpb.CancelOperationRequest{Name: "projects/demo-project/operations/nope"})
	if code(err) != codes.NotFound {
		t.Errorf("cancel unknown: %v", err)
	}
}

func TestFailCancelDeleteAndList(t *testing.T) {
	ctx := context.Background()
	c, clock, _ := start(t, dsemu.Options{Duration: 10 * time.Second, SlowDuration: time.Hour})
	export := func(labels map[string]string) *admin.ExportEntitiesOperation {
		op, err := c.ExportEntities(ctx, &adminpb.ExportEntitiesRequest{ProjectId: "demo-project", OutputUrlPrefix: "gs://b", Labels: labels})
		if err != nil {
			t.Fatal(err)
		}
		return op
	}
	failing := export(map[string]string{dsemu.LabelOutcome: dsemu.OutcomeFail, "run": "a"})
	slow := export(map[string]string{dsemu.LabelOutcome: dsemu.OutcomeSlow, "run": "b"})
	doomed := export(map[string]string{"run": "c"})
	if err := c.CancelOperation(ctx, &longrunningpb.CancelOperationRequest{Name: doomed.Name()}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(11 * time.Second)
	_, err := failing.Poll(ctx)
	if err == nil || !failing.Done() {
		t.Fatalf("failing export: %v, done %v", err, failing.Done())
	}
	if m, _ := failing.Metadata(); m.GetCommon().GetState() != adminpb.CommonMetadata_FAILED {
		t.Errorf("failing state %v", m.GetCommon().GetState())
	}
	if _, err := slow.Poll(ctx); err != nil || slow.Done() {
		t.Errorf("slow export after 11s: %v, done %v", err, slow.Done())
	}
	if _, err := doomed.Poll(ctx); status.Code(err) != codes.Canceled {
		t.Errorf("cancelled export: %v", err)
	}
	if err := c.CancelOperation(ctx, &longrunningpb.CancelOperationRequest{Name: failing.Name()}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("cancel of a done operation: %v", err)
	}
	list := func(filter string, pageSize int) []string {
		it := c.ListOperations(ctx, &longrunningpb.ListOperationsRequest{Name: "projects/demo-project", Filter: filter})
		it.PageInfo().MaxSize = pageSize
		var names []string
		for {
			op, err := it.Next()
			if errors.Is(err, iterator.Done) {
				return names
			}
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, op.GetName())
		}
	}
	if got := list("", 1); !slices.Equal(got, []string{failing.Name(), slow.Name(), doomed.Name()}) {
		t.Errorf("list in pages of 1: %v", got)
	}
	if got := list("labels.run=b", 0); !slices.Equal(got, []string{slow.Name()}) {
		t.Errorf("list by label: %v", got)
	}
	if err := c.DeleteOperation(ctx, &longrunningpb.DeleteOperationRequest{Name: slow.Name()}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetOperation(ctx, &longrunningpb.GetOperationRequest{Name: slow.Name()}); status.Code(err) != codes.NotFound {
		t.Errorf("deleted: %v", err)
	}
}

func TestImportOfAnExportHasItsEntities(t *testing.T) {
	ctx := context.Background()
	c, clock, _ := start(t, dsemu.Options{Duration: time.Second})
	exp, err := c.ExportEntities(ctx, &adminpb.ExportEntitiesRequest{ProjectId: "demo-project", OutputUrlPrefix: "gs://b",
		Labels: map[string]string{dsemu.LabelEntities: "4242"}})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Second)
	resp, err := exp.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	imp, err := c.ImportEntities(ctx, &adminpb.ImportEntitiesRequest{ProjectId: "demo-project", InputUrl: resp.GetOutputUrl()})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Second)
	if err := imp.Poll(ctx); err != nil || !imp.Done() {
		t.Fatalf("import: %v, done %v", err, imp.Done())
	}
	m, _ := imp.Metadata()
	if m.GetProgressEntities().GetWorkCompleted() != 4242 || m.GetInputUrl() != resp.GetOutputUrl() || m.GetCommon().GetOperationType() != adminpb.OperationType_IMPORT_ENTITIES {
		t.Errorf("import metadata %v", m)
	}
}
