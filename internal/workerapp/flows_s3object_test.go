package workerapp

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/worker"

	"github.com/vigilops/vigil/internal/router"
	"github.com/vigilops/vigil/internal/s3bind"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// TestS3RecordsWithoutBindingOrFlow checks what the ObjectCreated handler
// does with records it cannot start runs for: unbound ones are acknowledged
// (a message is redelivered only for a record whose run failed to start)
// and logged, at warn the first time; records of events no flow
// handles are logged and let go; records under a pipeline's archive prefix
// are ignored.
func TestS3RecordsWithoutBindingOrFlow(t *testing.T) {
	ts := testenv.NewTemporal(t)
	c := testenv.NewClient(t, ts)
	testenv.StartWorker(t, ts, func(r worker.Registry) {
		workflows.Register(r, map[string]any{workflows.S3BindingsName: workflows.S3BindingsWorkflow})
	})
	var logs syncBuffer
	d := &Deps{Temporal: c, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	h := &s3ObjectHandler{d: d, bindings: &s3bind.Cache{Client: c}}
	ctx := context.Background()
	rec := func(event, bucket, key string) router.S3Record {
		return router.S3Record{EventName: event, Bucket: bucket, Key: key, ETag: "e"}
	}
	msg := router.MessageInfo{MessageID: "m1", ReceiveCount: 2}

	err := h.handle(ctx, router.Notification{Kind: router.KindS3Event, S3: []router.S3Record{
		rec("ObjectCreated:Put", "inbox", "incoming/a b.csv"), rec("ObjectCreated:Put", "inbox", "incoming/c.csv"),
		rec("ObjectRestore:Completed", "archive", "x")}}, msg)
	if err != nil {
		t.Fatalf("unbound records: %v, want them acknowledged", err)
	}
	if l := logs.String(); !strings.Contains(l, "level=WARN") || !strings.Contains(l, "under no binding") || !strings.Contains(l, "count=2") || !strings.Contains(l, `firstKey="incoming/a b.csv"`) {
		t.Errorf("log %s", l)
	}

	if err := h.handle(ctx, router.Notification{Kind: router.KindS3Event, S3: []router.S3Record{
		rec("ObjectRemoved:Delete", "inbox", "incoming/gone.csv"), rec("ObjectRemoved:Delete", "inbox", "incoming/gone2.csv")}}, msg); err != nil {
		t.Fatalf("records no flow handles: %v", err)
	}
	if l := logs.String(); !strings.Contains(l, "no vigil flow handles") || !strings.Contains(l, "firstKey=incoming/gone.csv") {
		t.Errorf("log %s", l)
	}

	// Bound: archive copies are ignored; the rest start runs.
	p := flowdata.Pipeline{Name: "p", Processor: flowdata.Processor{Kind: flowdata.ProcessorNone}}
	if err := s3bind.Bind(ctx, c, workflows.TaskQueue, flowdata.S3Binding{Bucket: "inbox", Prefix: "", Pipeline: p}); err != nil {
		t.Fatal(err)
	}
	h.bindings.Invalidate()
	testenv.Eventually(t, 10*time.Second, 50*time.Millisecond, "binding", func() bool {
		bs, err := h.bindings.Get(ctx)
		h.bindings.Invalidate()
		return err == nil && len(bs) == 1
	})
	if err := h.handle(ctx, router.Notification{Kind: router.KindS3Event, S3: []router.S3Record{
		rec("ObjectCreated:Copy", "inbox", "bak/incoming/c.csv"), rec("ObjectCreated:Put", "inbox", "incoming/d.csv")}}, msg); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DescribeWorkflowExecution(ctx, flowdata.S3ObjectWorkflowID("inbox", "incoming/d.csv", "e"), ""); err != nil {
		t.Errorf("run of d.csv: %v", err)
	}
	if _, err := c.DescribeWorkflowExecution(ctx, flowdata.S3ObjectWorkflowID("inbox", "bak/incoming/c.csv", "e"), ""); err == nil {
		t.Error("a run was started for an archive copy")
	}
}
