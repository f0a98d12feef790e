package s3lite

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestEventFaults(t *testing.T) {
	st := newStack(t, Options{DuplicateRate: 1})
	st.createBucket(t, "flaky")
	u, arn := st.queue(t, "events")
	if err := putNotification(st, "flaky", &types.NotificationConfiguration{QueueConfigurations: []types.QueueConfiguration{
		{QueueArn: aws.String(arn), Events: []types.Event{types.EventS3ObjectCreated}}}}); err != nil {
		t.Fatal(err)
	}
	wantTestEvent(t, st.receive(t, u, 1), "flaky")

	// Duplicated: the same record twice.
	st.put(t, "flaky", "dup", "x", "")
	a, b := st.record(t, u), st.record(t, u)
	if a.S3.Object.Key != "dup" || a.S3.Object.Sequencer != b.S3.Object.Sequencer || a.S3.Object.ETag != b.S3.Object.ETag {
		t.Fatalf("want one record twice, got %+v and %+v", a.S3.Object, b.S3.Object)
	}

	// Delayed: pending until its time, then sent once.
	st.svc.SetEventFaults(EventFaults{DelayMax: 400 * time.Millisecond})
	sent := time.Now()
	st.put(t, "flaky", "late", "x", "")
	if rec := st.record(t, u); rec.S3.Object.Key != "late" {
		t.Fatalf("record %+v", rec.S3.Object)
	}
	if d := time.Since(sent); d > 5*time.Second {
		t.Errorf("delayed event took %s", d)
	}
	if body := st.receive(t, u, 1); body != "" {
		t.Errorf("delayed event sent twice: %s", body)
	}

	// Dropped: never sent, and named in the stats.
	st.svc.SetEventFaults(EventFaults{DropRate: 1})
	st.put(t, "flaky", "lost", "x", "")
	if body := st.receive(t, u, 1); body != "" {
		t.Errorf("dropped event sent: %s", body)
	}
	s := st.svc.EventStats()
	if s.Dropped != 1 || s.Duplicated != 1 || s.Delayed != 1 || s.Pending != 0 || len(s.DroppedKeys["flaky"]) != 1 || s.DroppedKeys["flaky"][0] != "lost" {
		t.Errorf("stats %+v", s)
	}

	// Held: not sent until released, then sent once.
	st.svc.SetEventFaults(EventFaults{HoldRate: 1})
	st.put(t, "flaky", "held", "x", "")
	if body := st.receive(t, u, 1); body != "" {
		t.Errorf("held event sent: %s", body)
	}
	if s := st.svc.EventStats(); s.Held != 1 {
		t.Errorf("held %d, want 1", s.Held)
	}
	if n := st.svc.ReleaseHeldEvents(); n != 1 {
		t.Errorf("released %d, want 1", n)
	}
	if rec := st.record(t, u); rec.S3.Object.Key != "held" {
		t.Fatalf("record %+v", rec.S3.Object)
	}
	if body := st.receive(t, u, 1); body != "" || st.svc.EventStats().Held != 0 {
		t.Errorf("held event sent twice or still held: %s", body)
	}
}
