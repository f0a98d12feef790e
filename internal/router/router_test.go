package router

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func sample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(samplesDir + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fast are router options for tests: short long polls, short visibility.
var fast = Options{WaitTimeSeconds: 1, VisibilityTimeout: time.Second, ErrorBackoff: 50 * time.Millisecond}

// calls collects handler invocations.
type calls chan struct {
	n    Notification
	info MessageInfo
}

func (c calls) handler(err func(call int) error) Handler {
	var count atomic.Int64
	return func(ctx context.Context, n Notification, info MessageInfo) error {
		c <- struct {
			n    Notification
			info MessageInfo
		}{n, info}
		if err == nil {
			return nil
		}
		return err(int(count.Add(1)))
	}
}

func expect(t *testing.T, ev event, want outcome, msgID string) {
	t.Helper()
	if ev.outcome != want || ev.info.MessageID != msgID {
		t.Fatalf("processed %s with outcome %d, want %s with %d", ev.info.MessageID, ev.outcome, msgID, want)
	}
}

func TestRouterDeletesHandledMessage(t *testing.T) {
	e := newEmu(t)
	q := e.createQueue("inbox", nil)
	got := make(calls, 4)
	rr := startRouter(t, e, fast, func(r *Router) { r.Register(KindS3Event, got.handler(nil)) }, q)

	id := e.send(q, sample(t, "s3-object-created.sns.json"))
	expect(t, rr.next(), outcomeHandled, id)
	c := <-got
	if c.n.Kind != KindS3Event || c.n.S3[0].Key != "incoming/big file.bin" {
		t.Errorf("handler got %s", dump(c.n))
	}
	if c.info.QueueURL != q || c.info.MessageID != id || c.info.ReceiveCount != 1 || c.info.SentAt.IsZero() {
		t.Errorf("MessageInfo = %+v", c.info)
	}
	if v, f := e.depth(q); v != 0 || f != 0 {
		t.Errorf("queue holds %d visible and %d in-flight messages after success, want none", v, f)
	}
	if s := rr.r.Stats(); s.Received != 1 || s.Handled != 1 || s.DeleteErrors != 0 {
		t.Errorf("Stats = %+v", s)
	}
}

func TestRouterHandlerErrorLeavesMessage(t *testing.T) {
	e := newEmu(t)
	q := e.createQueue("glacier", nil)
	got := make(calls, 4)
	failFirst := func(call int) error {
		if call == 1 {
			return errors.New("temporal unavailable")
		}
		return nil
	}
	rr := startRouter(t, e, fast, func(r *Router) { r.Register(KindGlacierJob, got.handler(failFirst)) }, q)

	id := e.send(q, sample(t, "glacier-job-completed.sns.json"))
	expect(t, rr.next(), outcomeFailed, id)
	first := <-got
	// Back after the 1 s visibility timeout, delivered a second time.
	expect(t, rr.next(), outcomeHandled, id)
	second := <-got
	if first.info.ReceiveCount != 1 || second.info.ReceiveCount != 2 {
		t.Errorf("receive counts %d, %d; want 1, 2", first.info.ReceiveCount, second.info.ReceiveCount)
	}
	if second.n.Glacier.JobDescription != "glacier/Backup_20121015_1/kKB7ymWJVpPS" {
		t.Errorf("second delivery: %s", dump(second.n))
	}
	if v, f := e.depth(q); v != 0 || f != 0 {
		t.Errorf("queue holds %d+%d messages, want none", v, f)
	}
	if s := rr.r.Stats(); s.Received != 2 || s.Failed != 1 || s.Handled != 1 {
		t.Errorf("Stats = %+v", s)
	}
	if !strings.Contains(rr.logs.String(), "temporal unavailable") {
		t.Errorf("handler error not logged:\n%s", rr.logs)
	}
}

func TestRouterDeliversDuplicates(t *testing.T) {
	e := newEmu(t)
	q := e.createQueue("dups", nil)
	got := make(calls, 4)
	rr := startRouter(t, e, fast, func(r *Router) { r.Register(KindS3Event, got.handler(nil)) }, q)

	body := sample(t, "s3-object-restore-completed.json")
	ids := map[string]bool{e.send(q, body): true, e.send(q, body): true}
	for range 2 {
		ev := rr.next()
		if ev.outcome != outcomeHandled || !ids[ev.info.MessageID] {
			t.Fatalf("unexpected event %+v", ev)
		}
		delete(ids, ev.info.MessageID)
		if c := <-got; c.n.S3[0].Key != "db/2025/full.tar.zst" {
			t.Errorf("handler got %s", dump(c.n))
		}
	}
	if s := rr.r.Stats(); s.Handled != 2 {
		t.Errorf("Stats = %+v", s)
	}
}

func TestRouterLeavesMalformedForDLQ(t *testing.T) {
	e := newEmu(t)
	dlq := e.createQueue("inbox-dlq", nil)
	q := e.createQueue("inbox", map[string]string{
		"RedrivePolicy": `{"deadLetterTargetArn":"` + e.queueARN(dlq) + `","maxReceiveCount":"1"}`,
	})
	got := make(calls, 4)
	rr := startRouter(t, e, fast, func(r *Router) {
		r.Register(KindS3Event, got.handler(nil))
		r.Register(KindGlacierJob, got.handler(nil))
	}, q)

	body := `{"Type":"SubscriptionConfirmation","Token":"` + strings.Repeat("x", 2000) + `"}`
	id := e.send(q, body)
	expect(t, rr.next(), outcomeMalformed, id)
	// Not deleted: after its visibility timeout SQS's redrive moves it to
	// the DLQ (maxReceiveCount 1), unchanged.
	m := e.receiveOne(dlq, 5)
	if m.Body == nil || *m.Body != body || *m.MessageId != id {
		t.Errorf("DLQ holds message %v, want %s", m.MessageId, id)
	}
	rr.stop()
	if len(got) != 0 {
		t.Errorf("a handler was called for a malformed message")
	}
	logs := rr.logs.String()
	if !strings.Contains(logs, id) || !strings.Contains(logs, "SubscriptionConfirmation") || !strings.Contains(logs, fmt.Sprintf("(%d bytes)", len(body))) {
		t.Errorf("log lacks the message id or the truncated body:\n%s", logs)
	}
	if s := rr.r.Stats(); s.Malformed != 1 || s.Received != 1 {
		t.Errorf("Stats = %+v", s)
	}
}

func TestRouterDropsTestEventsAndUnhandledKinds(t *testing.T) {
	e := newEmu(t)
	q := e.createQueue("inbox", nil)
	got := make(calls, 4)
	rr := startRouter(t, e, fast, func(r *Router) { r.Register(KindS3Event, got.handler(nil)) }, q)

	testID := e.send(q, sample(t, "s3-test-event.json"))
	expect(t, rr.next(), outcomeDropped, testID)
	glacierID := e.send(q, sample(t, "glacier-inventory-completed.raw.json")) // no Glacier handler
	expect(t, rr.next(), outcomeDropped, glacierID)

	if v, f := e.depth(q); v != 0 || f != 0 {
		t.Errorf("queue holds %d+%d messages, want none", v, f)
	}
	if len(got) != 0 {
		t.Errorf("the S3 handler was called")
	}
	if s := rr.r.Stats(); s.Dropped != 2 || s.Received != 2 {
		t.Errorf("Stats = %+v", s)
	}
}

func TestRouterAllHandlersMustSucceed(t *testing.T) {
	e := newEmu(t)
	q := e.createQueue("inbox", nil)
	got := make(calls, 8)
	panicFirst := func(call int) error {
		if call == 1 {
			panic("flow bug")
		}
		return nil
	}
	rr := startRouter(t, e, fast, func(r *Router) {
		r.Register(KindS3Event, got.handler(panicFirst))
		r.Register(KindS3Event, got.handler(nil))
	}, q)

	id := e.send(q, sample(t, "s3-object-created.json"))
	expect(t, rr.next(), outcomeFailed, id) // the panic is recovered as an error
	expect(t, rr.next(), outcomeHandled, id)
	if len(got) != 4 {
		t.Errorf("handlers called %d times, want 2 × 2", len(got))
	}
	if !strings.Contains(rr.logs.String(), "flow bug") {
		t.Errorf("panic not logged")
	}
}

func TestRouterWakesForMessageDuringLongPoll(t *testing.T) {
	e := newEmu(t)
	q := e.createQueue("inbox", nil)
	got := make(calls, 4)
	// A 20 s long poll: the test's 10 s deadline fails unless the waiting
	// receive returns as soon as the message arrives.
	rr := startRouter(t, e, Options{}, func(r *Router) { r.Register(KindS3Event, got.handler(nil)) }, q)
	e.awaitReceive(q)

	start := time.Now()
	id := e.send(q, sample(t, "s3-object-created.json"))
	expect(t, rr.next(), outcomeHandled, id)
	t.Logf("handled %v after sending", time.Since(start))
}

func TestRouterStopsOnCancel(t *testing.T) {
	e := newEmu(t)
	q1, q2 := e.createQueue("a", nil), e.createQueue("b", nil)
	rr := startRouter(t, e, Options{}, nil, q1, q2) // 20 s long polls
	e.awaitReceive(q1, q2)
	start := time.Now()
	rr.stop() // fails the test unless Run returns well before the polls end
	t.Logf("Run returned %v after cancel", time.Since(start))
}

func TestRouterAddQueueWhileRunning(t *testing.T) {
	e := newEmu(t)
	q1 := e.createQueue("first", nil)
	got := make(calls, 4)
	rr := startRouter(t, e, Options{}, func(r *Router) { r.Register(KindS3Event, got.handler(nil)) }, q1)
	e.awaitReceive(q1)

	q2 := e.createQueue("second", nil)
	rr.r.AddQueue(q2)
	rr.r.AddQueue(q2)
	e.awaitReceive(q2)
	id := e.send(q2, sample(t, "s3-object-created.json"))
	ev := rr.next()
	expect(t, ev, outcomeHandled, id)
	if ev.info.QueueURL != q2 {
		t.Errorf("message came from %s, want %s", ev.info.QueueURL, q2)
	}
	if qs := rr.r.Queues(); len(qs) != 2 {
		t.Errorf("Queues = %v", qs)
	}
}

func TestRouterReceiveErrorsDoNotStopIt(t *testing.T) {
	e := newEmu(t)
	q := e.createQueue("real", nil)
	missing := strings.TrimSuffix(q, "real") + "missing"
	got := make(calls, 4)
	rr := startRouter(t, e, fast, func(r *Router) { r.Register(KindS3Event, got.handler(nil)) }, missing, q)

	id := e.send(q, sample(t, "s3-object-created.json"))
	expect(t, rr.next(), outcomeHandled, id)
	// The missing queue's poller fails on its own schedule: wait for it.
	for deadline := time.Now().Add(10 * time.Second); rr.r.Stats().ReceiveErrors == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("no receive errors counted for a missing queue within 10s: %+v", rr.r.Stats())
		}
		<-time.After(10 * time.Millisecond)
	}
	rr.stop()
	if !strings.Contains(rr.logs.String(), "receiving from SQS failed") {
		t.Errorf("receive error not logged")
	}
}

// failDelete fails the first DeleteMessage call and passes the rest to the
// real client.
type failDelete struct {
	SQSAPI
	failed atomic.Bool
}

func (f *failDelete) DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	if f.failed.CompareAndSwap(false, true) {
		return nil, errors.New("connection reset")
	}
	return f.SQSAPI.DeleteMessage(ctx, in, opts...)
}

func TestRouterDeleteFailureRedelivers(t *testing.T) {
	e := newEmu(t)
	e.api = &failDelete{SQSAPI: e.client}
	q := e.createQueue("inbox", nil)
	got := make(calls, 4)
	rr := startRouter(t, e, fast, func(r *Router) { r.Register(KindS3Event, got.handler(nil)) }, q)

	id := e.send(q, sample(t, "s3-object-created.json"))
	expect(t, rr.next(), outcomeHandled, id)
	expect(t, rr.next(), outcomeHandled, id) // the handler is idempotent; SQS delivers again
	if c1, c2 := <-got, <-got; c1.info.ReceiveCount != 1 || c2.info.ReceiveCount != 2 {
		t.Errorf("receive counts %d, %d; want 1, 2", c1.info.ReceiveCount, c2.info.ReceiveCount)
	}
	if s := rr.r.Stats(); s.Handled != 2 || s.DeleteErrors != 1 {
		t.Errorf("Stats = %+v", s)
	}
	if v, f := e.depth(q); v != 0 || f != 0 {
		t.Errorf("queue holds %d+%d messages, want none", v, f)
	}
}
