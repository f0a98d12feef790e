package router

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// badS3Record is a minimal S3 event record with one field replaced or
// removed (value nil), for the bad-input table.
func badS3Record(t *testing.T, path []string, value any) string {
	t.Helper()
	rec := map[string]any{
		"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
		"eventTime": "2026-11-20T03:14:15.926Z", "eventName": "ObjectCreated:Put",
		"s3": map[string]any{
			"bucket": map[string]any{"name": "inbox", "arn": "arn:aws:s3:::inbox"},
			"object": map[string]any{"key": "a/b.csv", "size": 10, "eTag": "x", "sequencer": "0055"},
		},
	}
	m := rec
	for _, p := range path[:len(path)-1] {
		m = m[p].(map[string]any)
	}
	if value == nil {
		delete(m, path[len(path)-1])
	} else {
		m[path[len(path)-1]] = value
	}
	b, err := json.Marshal(map[string]any{"Records": []any{rec}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sns wraps a payload in an SNS envelope of the given Type.
func sns(typ string, message any) string {
	b, _ := json.Marshal(map[string]any{"Type": typ, "MessageId": "m-1", "TopicArn": "arn:aws:sns:us-east-1:000000000000:t",
		"Message": message, "Timestamp": "2026-11-20T03:14:16.000Z"})
	return string(b)
}

// TestBadMessagesTable is R4 of issue 13 for the router: messages that are
// not notifications vigil understands reach no handler, are logged with
// their message id, and are left on the queue for its dead-letter queue
// (unparseable) or deleted (well-formed but nobody's), as doc.go says; the
// router keeps running and handles the good message sent after them.
func TestBadMessagesTable(t *testing.T) {
	glacier := func(field string, value any) string {
		m := map[string]any{"Action": "ArchiveRetrieval", "JobId": "job-1", "ArchiveId": "a", "Completed": true,
			"StatusCode": "Succeeded", "VaultARN": "arn:aws:glacier:us-east-1:000000000000:vaults/v", "CompletionDate": "2026-10-17T12:26:03.931Z"}
		if value == nil {
			delete(m, field)
		} else {
			m[field] = value
		}
		b, _ := json.Marshal(m)
		return sns("Notification", string(b))
	}
	cases := []struct {
		name, body string
		want       outcome // outcomeMalformed: left on the queue; outcomeDropped: deleted
	}{
		{"not JSON", "hello, world", outcomeMalformed},
		{"truncated JSON", `{"Type":"Notification","Message":"{\"Records\":[`, outcomeMalformed},
		{"JSON array", `[1,2,3]`, outcomeMalformed},
		{"JSON null", `null`, outcomeMalformed},
		{"JSON string", `"Records"`, outcomeMalformed},
		{"empty object", `{}`, outcomeMalformed},
		{"unknown JSON shape", `{"hello":"world","n":1}`, outcomeMalformed},
		{"S3 record null", `{"Records":[null]}`, outcomeMalformed},
		{"huge unknown JSON", `{"pad":"` + strings.Repeat("x", 200<<10) + `"}`, outcomeMalformed},
		{"SNS SubscriptionConfirmation", sns("SubscriptionConfirmation", "You have chosen to subscribe"), outcomeMalformed},
		{"SNS UnsubscribeConfirmation", sns("UnsubscribeConfirmation", "bye"), outcomeMalformed},
		{"SNS unexpected Type", sns("Advertisement", "{}"), outcomeMalformed},
		{"SNS Message not a string", sns("Notification", 42), outcomeMalformed},
		{"SNS Message not JSON", sns("Notification", "plain text"), outcomeMalformed},
		{"SNS Message truncated JSON", sns("Notification", `{"Action":"ArchiveRetrieval","JobId":`), outcomeMalformed},
		{"S3 Records not a list", `{"Records":"all of them"}`, outcomeMalformed},
		{"S3 Records empty", `{"Records":[]}`, outcomeMalformed},
		{"S3 record without s3", badS3Record(t, []string{"s3"}, nil), outcomeMalformed},
		{"S3 record without bucket name", badS3Record(t, []string{"s3", "bucket", "name"}, nil), outcomeMalformed},
		{"S3 record without object key", badS3Record(t, []string{"s3", "object", "key"}, nil), outcomeMalformed},
		{"S3 record without eventName", badS3Record(t, []string{"eventName"}, nil), outcomeMalformed},
		{"S3 record with a bad eventTime", badS3Record(t, []string{"eventTime"}, "yesterday"), outcomeMalformed},
		{"S3 record with a key of the wrong type", badS3Record(t, []string{"s3", "object", "key"}, 7), outcomeMalformed},
		{"S3 record with a bad key escape", badS3Record(t, []string{"s3", "object", "key"}, "bad%zzescape"), outcomeMalformed},
		{"Glacier completion without JobId", glacier("JobId", nil), outcomeMalformed},
		{"Glacier completion without Action", glacier("Action", nil), outcomeMalformed},
		{"Glacier completion with an unknown Action", glacier("Action", "Teleport"), outcomeMalformed},
		{"Glacier completion with a bad CompletionDate", glacier("CompletionDate", "soon"), outcomeMalformed},
		{"Glacier completion with Completed a string", glacier("Completed", "yes"), outcomeMalformed},
		{"s3:TestEvent (well-formed, nobody's)", `{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-20T03:14:15.926Z","Bucket":"inbox","RequestId":"r","HostId":"h"}`, outcomeDropped},
	}
	e := newEmu(t)
	q := e.createQueue("bad-inputs", nil)
	var called atomic.Int64
	h := func(context.Context, Notification, MessageInfo) error { called.Add(1); return nil }
	// Each message is seen once: a visibility timeout far above the time a
	// loaded machine takes to handle and delete one keeps SQS from handing
	// it out again (with fast's 1 s, CI saw a message twice).
	once := fast
	once.VisibilityTimeout = time.Minute
	rr := startRouter(t, e, once, func(r *Router) {
		for _, k := range []Kind{KindGlacierJob, KindS3Event} {
			r.Register(k, h)
		}
	}, q)
	ids := map[string]int{}
	for i, tc := range cases {
		ids[e.send(q, tc.body)] = i
	}
	seen := map[string]bool{}
	for range cases {
		ev := rr.next()
		i, ok := ids[ev.info.MessageID]
		if !ok || seen[ev.info.MessageID] {
			t.Fatalf("unexpected or repeated message %s", ev.info.MessageID)
		}
		seen[ev.info.MessageID] = true
		tc := cases[i]
		if ev.outcome != tc.want {
			t.Errorf("%s: outcome %d, want %d", tc.name, ev.outcome, tc.want)
		}
		if !strings.Contains(rr.logs.String(), ev.info.MessageID) {
			t.Errorf("%s: no log line names message %s", tc.name, ev.info.MessageID)
		}
	}
	if n := called.Load(); n != 0 {
		t.Errorf("handlers were called %d times for bad input; want none", n)
	}
	malformed := 0
	for _, tc := range cases {
		if tc.want == outcomeMalformed {
			malformed++
		}
	}
	if s := rr.r.Stats(); s.Handled != 0 || s.Malformed != int64(malformed) {
		t.Errorf("Stats = %+v, want %d malformed and none handled", s, malformed)
	}
	// Still alive: a good message is handled.
	good := e.send(q, sample(t, "s3-object-created.sns.json"))
	for {
		ev := rr.next()
		if ev.info.MessageID == good {
			if ev.outcome != outcomeHandled || called.Load() != 1 {
				t.Errorf("good message after the bad ones: outcome %d, %d handler calls", ev.outcome, called.Load())
			}
			break
		}
	}
	// Unparseable messages were left (in flight until their visibility
	// timeout), the test event deleted.
	if v, f := e.depth(q); v+f < malformed {
		t.Errorf("queue holds %d visible + %d in flight, want the %d unparseable messages left for the DLQ", v, f, malformed)
	}
}
