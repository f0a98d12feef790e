package workerapp

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/metrics"
	"github.com/vigilops/vigil/internal/router"
	"github.com/vigilops/vigil/internal/s3bind"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// s3EventBody is an S3 event message (raw delivery) of ObjectCreated:Put
// records in bucket, one per key.
func s3EventBody(t *testing.T, bucket string, keys ...string) string {
	t.Helper()
	type obj struct {
		Key  string `json:"key"`
		Size int64  `json:"size"`
		ETag string `json:"eTag"`
	}
	type rec struct {
		EventSource string `json:"eventSource"`
		EventTime   string `json:"eventTime"`
		EventName   string `json:"eventName"`
		S3          struct {
			Bucket struct {
				Name string `json:"name"`
			} `json:"bucket"`
			Object obj `json:"object"`
		} `json:"s3"`
	}
	var recs []rec
	for i, k := range keys {
		var r rec
		r.EventSource, r.EventTime, r.EventName = "aws:s3", "2026-12-01T10:00:00.000Z", "ObjectCreated:Put"
		r.S3.Bucket.Name = bucket
		r.S3.Object = obj{Key: k, Size: 3, ETag: "etag" + strconv.Itoa(i)}
		recs = append(recs, r)
	}
	b, err := json.Marshal(map[string]any{"Records": recs})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// With a binding on incoming/ (archive bak/) and a bucket-wide
// notification, a message holding a good incoming/ record and the
// bak/incoming/ record of vigil's own archive copy starts the one run and
// is deleted at once: the archive record is acknowledged, counted and
// ignored, never a reason to deliver the message again (#19 point 4).
func TestRouterAcknowledgesRecordsOfVigilsOwnOutput(t *testing.T) {
	f := startRouterFixture(t, time.Nanosecond)
	ctx, c := context.Background(), f.c
	ignored := metrics.FlowEvents.WithLabelValues(workflows.S3ObjectFlow, ownOutputIgnored)
	before := counterValue(t, ignored)
	if s := f.send(t, "incoming/a.csv", "bak/incoming/a.csv"); s.Handled != 1 || s.Failed != 0 {
		t.Fatalf("router: %d handled, %d failed; want the message handled once, never failed", s.Handled, s.Failed)
	}
	f.queueEmpty(t)
	if got := counterValue(t, ignored) - before; got != 1 {
		t.Errorf("%s counted %v ignored records, want 1", ownOutputIgnored, got)
	}
	if _, err := c.DescribeWorkflowExecution(ctx, flowdata.S3ObjectWorkflowID("inbox", "incoming/a.csv", "etag0"), ""); err != nil {
		t.Errorf("run of incoming/a.csv: %v", err)
	}
	if _, err := c.DescribeWorkflowExecution(ctx, flowdata.S3ObjectWorkflowID("inbox", "bak/incoming/a.csv", "etag1"), ""); err == nil ||
		!strings.Contains(err.Error(), "not found") {
		t.Errorf("a run was started for vigil's own archive copy (%v)", err)
	}
}

// routerFixture is a real router on a local SQS queue with the S3 object
// handler, and a Temporal server where incoming/ in bucket inbox is bound
// (archive bak/); the handler's bindings cache has the given TTL.
type routerFixture struct {
	c       client.Client
	clients *awsconf.Clients
	queue   string
	rt      *router.Router
}

func startRouterFixture(t *testing.T, ttl time.Duration) routerFixture {
	t.Helper()
	ts := testenv.NewTemporal(t)
	c := testenv.NewClient(t, ts)
	testenv.StartWorker(t, ts, func(r worker.Registry) {
		workflows.Register(r, map[string]any{workflows.S3BindingsName: workflows.S3BindingsWorkflow})
	})
	ctx := context.Background()
	p := flowdata.Pipeline{Name: "p", Processor: flowdata.Processor{Kind: flowdata.ProcessorNone}}
	if err := s3bind.Bind(ctx, c, workflows.TaskQueue, flowdata.S3Binding{Bucket: "inbox", Prefix: "incoming/", Pipeline: p}); err != nil {
		t.Fatal(err)
	}
	bindings := &s3bind.Cache{Client: c, TTL: ttl}
	testenv.Eventually(t, 10*time.Second, 50*time.Millisecond, "binding", func() bool {
		bs, err := bindings.GetFresh(ctx, 0)
		return err == nil && len(bs) == 1
	})

	cloud, err := localcloud.Start(localcloud.Options{Addr: "127.0.0.1:0", DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cloud.Close() })
	clients := awsconf.NewClients(awsconf.Local(cloud.URL()))
	q, err := clients.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("own-output")})
	if err != nil {
		t.Fatal(err)
	}
	queue := aws.ToString(q.QueueUrl)

	logger := testenv.TestLogger(t, slog.LevelDebug)
	d := &Deps{Temporal: c, Logger: logger}
	// Records under no binding look again in bindings fetched for them.
	h := &s3ObjectHandler{d: d, bindings: bindings, refreshAge: time.Nanosecond}
	// A failed message comes back after a second, so a redelivery would
	// show well within the waits of the tests.
	rt := router.New(clients.SQS, router.Options{Logger: logger, WaitTimeSeconds: 1, VisibilityTimeout: time.Second})
	rt.Register(router.KindS3Event, h.handle)
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- rt.Run(rctx, queue) }()
	t.Cleanup(func() { stop(); <-done })
	return routerFixture{c: c, clients: clients, queue: queue, rt: rt}
}

// send sends an S3 event message of keys in bucket inbox and waits until
// the router has handled or failed a message.
func (f routerFixture) send(t *testing.T, keys ...string) router.Stats {
	t.Helper()
	before := f.rt.Stats()
	if _, err := f.clients.SQS.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(f.queue),
		MessageBody: aws.String(s3EventBody(t, "inbox", keys...))}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, 50*time.Millisecond, "the message's processing", func() bool {
		s := f.rt.Stats()
		return s.Handled+s.Failed > before.Handled+before.Failed
	})
	return f.rt.Stats()
}

// queueEmpty fails t unless the queue has no message, visible or not.
func (f routerFixture) queueEmpty(t *testing.T) {
	t.Helper()
	attrs, err := f.clients.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(f.queue),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range attrs.Attributes {
		if v != "0" {
			t.Errorf("queue %s = %s after the message was handled; want it deleted", name, v)
		}
	}
}

// With a bucket-wide notification every other upload of the bucket comes
// to the router: a message with a good incoming/ record and one under no
// binding starts the one run and is deleted at once (the unbound record is
// acknowledged and counted), instead of going round the queue to its
// dead-letter queue. A prefix bound after the worker's bindings were
// cached is found: an unbound record looks again in fresh bindings.
func TestRouterAcknowledgesUnboundRecords(t *testing.T) {
	f := startRouterFixture(t, time.Hour)
	ctx := context.Background()
	unbound := metrics.FlowEvents.WithLabelValues(workflows.S3ObjectFlow, unboundIgnored)
	before := counterValue(t, unbound)
	if s := f.send(t, "incoming/a.csv", "photos/cat.jpg"); s.Handled != 1 || s.Failed != 0 {
		t.Fatalf("router: %d handled, %d failed; want the message handled once, never failed", s.Handled, s.Failed)
	}
	f.queueEmpty(t)
	if got := counterValue(t, unbound) - before; got != 1 {
		t.Errorf("%s counted %v records, want 1", unboundIgnored, got)
	}
	if _, err := f.c.DescribeWorkflowExecution(ctx, flowdata.S3ObjectWorkflowID("inbox", "incoming/a.csv", "etag0"), ""); err != nil {
		t.Errorf("run of incoming/a.csv: %v", err)
	}

	// Bound after the cache (TTL an hour) was filled.
	p := flowdata.Pipeline{Name: "late", Processor: flowdata.Processor{Kind: flowdata.ProcessorNone}}
	if err := s3bind.Bind(ctx, f.c, workflows.TaskQueue, flowdata.S3Binding{Bucket: "inbox", Prefix: "late/", Pipeline: p}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, 50*time.Millisecond, "the late binding", func() bool {
		bs, err := s3bind.List(ctx, f.c)
		return err == nil && len(bs) == 2
	})
	if s := f.send(t, "late/b.csv"); s.Handled != 2 || s.Failed != 0 {
		t.Fatalf("router: %d handled, %d failed; want both messages handled", s.Handled, s.Failed)
	}
	if _, err := f.c.DescribeWorkflowExecution(ctx, flowdata.S3ObjectWorkflowID("inbox", "late/b.csv", "etag0"), ""); err != nil {
		t.Errorf("run of late/b.csv (bound after the cache was filled): %v", err)
	}
	if got := counterValue(t, unbound) - before; got != 1 {
		t.Errorf("%s counted %v records, want still 1", unboundIgnored, got)
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
