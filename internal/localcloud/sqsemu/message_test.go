package sqsemu

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

func TestMD5OfAttributesVectors(t *testing.T) {
	// Digests SQS returns for these attributes (as pinned by other SQS
	// implementations' test suites against AWS).
	tests := []struct {
		name, value, want string
	}{
		{"timestamp", "1493147359900", "235c5c510d26fb653d073faed50ae77c"},
		{"timestamp", "1493147359901", "994258b45346a2cc3f9cbb611aa7af30"},
		{"SOME_Valid.attribute-Name", "1493147359900", "36655e7e9d7c0e8479fa3f3f42247ae7"},
	}
	for _, tc := range tests {
		v := tc.value
		got := md5OfAttributes(map[string]attributeValue{tc.name: {DataType: "Number", StringValue: &v}})
		if got != tc.want {
			t.Errorf("md5(%s=%s) = %s, want %s", tc.name, tc.value, got, tc.want)
		}
	}
	if md5OfAttributes(nil) != "" {
		t.Error("md5 of no attributes should be empty")
	}
	if md5Hex("test") != "098f6bcd4621d373cade4e832627b4f6" {
		t.Error("md5Hex(test) is wrong")
	}
}

func TestSendReceiveWithAttributesPassesChecksums(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	url := e.createQueue(t, "md5", nil)
	attrs := map[string]sqstypes.MessageAttributeValue{
		"timestamp": {DataType: aws.String("Number"), StringValue: aws.String("1493147359900")},
		"kind":      {DataType: aws.String("String.custom"), StringValue: aws.String("glacier")},
		"blob":      {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 2, 0xff}},
	}
	body := `{"héllo":"wörld ✓"}`
	sent, err := e.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: &url, MessageBody: &body, MessageAttributes: attrs,
		MessageSystemAttributes: map[string]sqstypes.MessageSystemAttributeValue{
			"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String("Root=1-5759e988-bd862e3fe1be46a994272793")},
		},
	})
	if err != nil {
		t.Fatalf("SendMessage (checksum validated by the SDK): %v", err)
	}
	if aws.ToString(sent.MD5OfMessageBody) != md5Hex(body) || aws.ToString(sent.MD5OfMessageAttributes) == "" ||
		aws.ToString(sent.MD5OfMessageSystemAttributes) == "" {
		t.Fatalf("send digests: body %v attrs %v sys %v", aws.ToString(sent.MD5OfMessageBody),
			aws.ToString(sent.MD5OfMessageAttributes), aws.ToString(sent.MD5OfMessageSystemAttributes))
	}

	out := e.receive(t, url, 1)
	if len(out.Messages) != 1 {
		t.Fatalf("received %d messages", len(out.Messages))
	}
	m := out.Messages[0]
	if aws.ToString(m.Body) != body || aws.ToString(m.MessageId) != aws.ToString(sent.MessageId) {
		t.Errorf("received %q id %s", aws.ToString(m.Body), aws.ToString(m.MessageId))
	}
	if aws.ToString(m.MD5OfMessageAttributes) != aws.ToString(sent.MD5OfMessageAttributes) {
		t.Errorf("receive MD5OfMessageAttributes %s != send %s", aws.ToString(m.MD5OfMessageAttributes), aws.ToString(sent.MD5OfMessageAttributes))
	}
	if got := m.MessageAttributes["blob"].BinaryValue; string(got) != "\x00\x01\x02\xff" {
		t.Errorf("binary attribute = %v", got)
	}
	if aws.ToString(m.MessageAttributes["kind"].DataType) != "String.custom" {
		t.Errorf("custom data type lost: %v", aws.ToString(m.MessageAttributes["kind"].DataType))
	}
	if m.Attributes["AWSTraceHeader"] == "" || m.Attributes["SenderId"] != "000000000000" || m.Attributes["ApproximateReceiveCount"] != "1" {
		t.Errorf("system attributes = %v", m.Attributes)
	}

	// Only the requested attributes come back, with their own digest.
	e.send(t, url, "second")
	if _, err := e.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("third"), MessageAttributes: attrs}); err != nil {
		t.Fatal(err)
	}
	out, err = e.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: &url, MaxNumberOfMessages: 10, MessageAttributeNames: []string{"timestamp"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 2 {
		t.Fatalf("received %d, want 2", len(out.Messages))
	}
	third := out.Messages[1]
	if len(third.MessageAttributes) != 1 || aws.ToString(third.MD5OfMessageAttributes) != "235c5c510d26fb653d073faed50ae77c" {
		t.Errorf("filtered attributes %v md5 %s", third.MessageAttributes, aws.ToString(third.MD5OfMessageAttributes))
	}
	if out.Messages[0].Attributes != nil || out.Messages[0].MD5OfMessageAttributes != nil {
		t.Errorf("unrequested attributes returned: %v", out.Messages[0])
	}
}

func TestSendValidation(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	url := e.createQueue(t, "validation", map[string]string{"MaximumMessageSize": "1024"})
	tests := []struct {
		name string
		in   sqs.SendMessageInput
		code string
	}{
		{"invalid character", sqs.SendMessageInput{MessageBody: aws.String("bell \x07")}, "InvalidMessageContents"},
		{"too long", sqs.SendMessageInput{MessageBody: aws.String(strings.Repeat("x", 1025))}, "InvalidParameterValue"},
		{"delay too long", sqs.SendMessageInput{MessageBody: aws.String("x"), DelaySeconds: 901}, "InvalidParameterValue"},
		{"reserved attribute name", sqs.SendMessageInput{MessageBody: aws.String("x"),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{"AWS.x": {DataType: aws.String("String"), StringValue: aws.String("v")}}},
			"InvalidParameterValue"},
		{"empty attribute value", sqs.SendMessageInput{MessageBody: aws.String("x"),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{"a": {DataType: aws.String("String")}}},
			"InvalidParameterValue"},
		{"bad number", sqs.SendMessageInput{MessageBody: aws.String("x"),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{"a": {DataType: aws.String("Number"), StringValue: aws.String("ten")}}},
			"InvalidParameterValue"},
		{"bad type", sqs.SendMessageInput{MessageBody: aws.String("x"),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{"a": {DataType: aws.String("Float"), StringValue: aws.String("1")}}},
			"InvalidParameterValue"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.QueueUrl = &url
			_, err := e.client.SendMessage(ctx, &in)
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
				t.Fatalf("error = %v, want code %s", err, tc.code)
			}
		})
	}
	if got := e.attr(t, url, "ApproximateNumberOfMessages"); got != "0" {
		t.Errorf("rejected messages were stored: %s", got)
	}
}

func TestVisibilityTimeoutRedelivery(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, clock)
	ctx := context.Background()
	url := e.createQueue(t, "vis", map[string]string{"VisibilityTimeout": "30"})
	id := e.send(t, url, "job")

	first := e.receive(t, url, 10)
	if len(first.Messages) != 1 || first.Messages[0].Attributes["ApproximateReceiveCount"] != "1" {
		t.Fatalf("first receive = %+v", first.Messages)
	}
	if got := e.attr(t, url, "ApproximateNumberOfMessagesNotVisible"); got != "1" {
		t.Errorf("NotVisible = %s, want 1", got)
	}
	clock.Advance(29 * time.Second)
	if again := e.receive(t, url, 10); len(again.Messages) != 0 {
		t.Fatalf("message visible before its timeout: %+v", again.Messages)
	}
	clock.Advance(time.Second)
	second := e.receive(t, url, 10)
	if len(second.Messages) != 1 {
		t.Fatalf("message did not reappear after the visibility timeout")
	}
	m1, m2 := first.Messages[0], second.Messages[0]
	if aws.ToString(m2.MessageId) != id || m2.Attributes["ApproximateReceiveCount"] != "2" {
		t.Errorf("redelivery id %s count %s, want %s count 2", aws.ToString(m2.MessageId), m2.Attributes["ApproximateReceiveCount"], id)
	}
	if m2.Attributes["ApproximateFirstReceiveTimestamp"] != m1.Attributes["ApproximateFirstReceiveTimestamp"] ||
		m2.Attributes["SentTimestamp"] != strconv.FormatInt(clock.Now().Add(-30*time.Second).UnixMilli(), 10) {
		t.Errorf("timestamps first %v second %v", m1.Attributes, m2.Attributes)
	}
	if aws.ToString(m1.ReceiptHandle) == aws.ToString(m2.ReceiptHandle) {
		t.Fatal("receipt handle did not change between receives")
	}

	// The stale handle cannot delete or extend the in-flight message.
	_, err := e.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m1.ReceiptHandle})
	wantAPIError[*sqstypes.ReceiptHandleIsInvalid](t, err, "ReceiptHandleIsInvalid")
	_, err = e.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: m1.ReceiptHandle, VisibilityTimeout: 60})
	wantAPIError[*sqstypes.ReceiptHandleIsInvalid](t, err, "ReceiptHandleIsInvalid")

	// ChangeMessageVisibility to 0 makes it visible at once.
	if _, err := e.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: m2.ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: m2.ReceiptHandle, VisibilityTimeout: 10})
	wantAPIError[*sqstypes.MessageNotInflight](t, err, "AWS.SimpleQueueService.MessageNotInflight")

	// A receive-level VisibilityTimeout overrides the queue's.
	third, err := e.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, VisibilityTimeout: 5,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount}})
	if err != nil || len(third.Messages) != 1 || third.Messages[0].Attributes["ApproximateReceiveCount"] != "3" {
		t.Fatalf("third receive = %+v, %v", third, err)
	}
	clock.Advance(5 * time.Second)
	fourth := e.receive(t, url, 1)
	if len(fourth.Messages) != 1 {
		t.Fatal("override visibility of 5s was not applied")
	}
	if _, err := e.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: fourth.Messages[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	// Deleting an already deleted message succeeds, as in SQS.
	if _, err := e.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: fourth.Messages[0].ReceiptHandle}); err != nil {
		t.Errorf("second delete: %v", err)
	}
	clock.Advance(time.Hour)
	if got := e.receive(t, url, 10); len(got.Messages) != 0 {
		t.Errorf("deleted message came back: %+v", got.Messages)
	}
}

func TestDelayedMessages(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, clock)
	ctx := context.Background()
	url := e.createQueue(t, "delayed", map[string]string{"DelaySeconds": "10"})
	e.send(t, url, "queue default delay")
	if _, err := e.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("own delay"), DelaySeconds: 60}); err != nil {
		t.Fatal(err)
	}
	if got := e.attr(t, url, "ApproximateNumberOfMessagesDelayed"); got != "2" {
		t.Errorf("Delayed = %s, want 2", got)
	}
	if got := e.receive(t, url, 10); len(got.Messages) != 0 {
		t.Fatalf("delayed message received early")
	}
	clock.Advance(10 * time.Second)
	got := e.receive(t, url, 10)
	if len(got.Messages) != 1 || aws.ToString(got.Messages[0].Body) != "queue default delay" {
		t.Fatalf("after 10s got %+v", got.Messages)
	}
	if _, err := e.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: got.Messages[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(50 * time.Second)
	got = e.receive(t, url, 10)
	if len(got.Messages) != 1 || aws.ToString(got.Messages[0].Body) != "own delay" {
		t.Fatalf("after 60s got %+v", got.Messages)
	}
}

func TestRedriveToDeadLetterQueue(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, clock)
	dlqURL := e.createQueue(t, "work-dlq", nil)
	url := e.createQueue(t, "work", map[string]string{
		"VisibilityTimeout": "10",
		"RedrivePolicy":     `{"deadLetterTargetArn":"` + e.svc.QueueARN("work-dlq") + `","maxReceiveCount":2}`,
	})
	id := e.send(t, url, "poison")
	for i := 1; i <= 2; i++ {
		got := e.receive(t, url, 1)
		if len(got.Messages) != 1 || got.Messages[0].Attributes["ApproximateReceiveCount"] != strconv.Itoa(i) {
			t.Fatalf("receive %d = %+v", i, got.Messages)
		}
		clock.Advance(10 * time.Second)
	}
	// The third receive exceeds maxReceiveCount: the message moves instead.
	if got := e.receive(t, url, 1); len(got.Messages) != 0 {
		t.Fatalf("message received a third time: %+v", got.Messages)
	}
	if got := e.attr(t, url, "ApproximateNumberOfMessages"); got != "0" {
		t.Errorf("source queue still holds %s messages", got)
	}
	got := e.receive(t, dlqURL, 1)
	if len(got.Messages) != 1 {
		t.Fatal("message not in the dead-letter queue")
	}
	m := got.Messages[0]
	if aws.ToString(m.MessageId) != id || aws.ToString(m.Body) != "poison" ||
		m.Attributes["DeadLetterQueueSourceArn"] != e.svc.QueueARN("work") || m.Attributes["ApproximateReceiveCount"] != "1" {
		t.Errorf("DLQ message = id %s body %s attrs %v", aws.ToString(m.MessageId), aws.ToString(m.Body), m.Attributes)
	}
}

func TestBatchSendAndDelete(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	url := e.createQueue(t, "batch", nil)
	out, err := e.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: []sqstypes.SendMessageBatchRequestEntry{
		{Id: aws.String("ok-1"), MessageBody: aws.String("one")},
		{Id: aws.String("bad-char"), MessageBody: aws.String("nul \x00")},
		{Id: aws.String("ok-2"), MessageBody: aws.String("two"), MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			"timestamp": {DataType: aws.String("Number"), StringValue: aws.String("1493147359900")}}},
		{Id: aws.String("bad-delay"), MessageBody: aws.String("late"), DelaySeconds: 901},
	}})
	if err != nil {
		t.Fatalf("SendMessageBatch (checksums validated by the SDK): %v", err)
	}
	if len(out.Successful) != 2 || aws.ToString(out.Successful[0].Id) != "ok-1" || aws.ToString(out.Successful[1].Id) != "ok-2" {
		t.Fatalf("Successful = %+v", out.Successful)
	}
	if aws.ToString(out.Successful[1].MD5OfMessageAttributes) != "235c5c510d26fb653d073faed50ae77c" {
		t.Errorf("batch MD5OfMessageAttributes = %s", aws.ToString(out.Successful[1].MD5OfMessageAttributes))
	}
	failed := map[string]string{}
	for _, f := range out.Failed {
		if !f.SenderFault {
			t.Errorf("%s: SenderFault false", aws.ToString(f.Id))
		}
		failed[aws.ToString(f.Id)] = aws.ToString(f.Code)
	}
	if failed["bad-char"] != "InvalidMessageContents" || failed["bad-delay"] != "InvalidParameterValue" || len(failed) != 2 {
		t.Errorf("Failed = %v", failed)
	}

	got := e.receive(t, url, 10)
	if len(got.Messages) != 2 {
		t.Fatalf("received %d, want 2", len(got.Messages))
	}
	del, err := e.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: []sqstypes.DeleteMessageBatchRequestEntry{
		{Id: aws.String("a"), ReceiptHandle: got.Messages[0].ReceiptHandle},
		{Id: aws.String("b"), ReceiptHandle: aws.String("not-a-handle")},
		{Id: aws.String("c"), ReceiptHandle: got.Messages[1].ReceiptHandle},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(del.Successful) != 2 || len(del.Failed) != 1 || aws.ToString(del.Failed[0].Id) != "b" ||
		aws.ToString(del.Failed[0].Code) != "ReceiptHandleIsInvalid" {
		t.Errorf("DeleteMessageBatch = ok %+v failed %+v", del.Successful, del.Failed)
	}
	if n := e.attr(t, url, "ApproximateNumberOfMessagesNotVisible"); n != "0" {
		t.Errorf("NotVisible after batch delete = %s", n)
	}

	// Request-level batch errors.
	var eleven []sqstypes.SendMessageBatchRequestEntry
	for i := range 11 {
		eleven = append(eleven, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String("x")})
	}
	_, err = e.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: eleven})
	wantAPIError[*sqstypes.TooManyEntriesInBatchRequest](t, err, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest")
	_, err = e.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: []sqstypes.SendMessageBatchRequestEntry{}})
	wantAPIError[*sqstypes.EmptyBatchRequest](t, err, "AWS.SimpleQueueService.EmptyBatchRequest")
	_, err = e.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url,
		Entries: []sqstypes.SendMessageBatchRequestEntry{eleven[0], eleven[0]}})
	wantAPIError[*sqstypes.BatchEntryIdsNotDistinct](t, err, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct")
	_, err = e.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: []sqstypes.DeleteMessageBatchRequestEntry{
		{Id: aws.String("no spaces"), ReceiptHandle: aws.String("x")}}})
	wantAPIError[*sqstypes.InvalidBatchEntryId](t, err, "AWS.SimpleQueueService.InvalidBatchEntryId")
}

func TestChangeMessageVisibilityBatch(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, clock)
	ctx := context.Background()
	url := e.createQueue(t, "cmvb", nil)
	e.send(t, url, "a")
	got := e.receive(t, url, 1)
	out, err := e.client.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: &url,
		Entries: []sqstypes.ChangeMessageVisibilityBatchRequestEntry{
			{Id: aws.String("x"), ReceiptHandle: got.Messages[0].ReceiptHandle, VisibilityTimeout: 300},
			{Id: aws.String("y"), ReceiptHandle: aws.String("junk"), VisibilityTimeout: 300},
		}})
	if err != nil || len(out.Successful) != 1 || len(out.Failed) != 1 || aws.ToString(out.Failed[0].Code) != "ReceiptHandleIsInvalid" {
		t.Fatalf("ChangeMessageVisibilityBatch = %+v, %v", out, err)
	}
	clock.Advance(299 * time.Second)
	if r := e.receive(t, url, 1); len(r.Messages) != 0 {
		t.Fatal("extended message visible too early")
	}
	clock.Advance(time.Second)
	if r := e.receive(t, url, 1); len(r.Messages) != 1 {
		t.Fatal("extended message did not come back")
	}
}

func TestPurgeQueue(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	url := e.createQueue(t, "purge", nil)
	for i := range 3 {
		e.send(t, url, "m"+strconv.Itoa(i))
	}
	e.receive(t, url, 1) // one in flight, two visible
	if _, err := e.client.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: &url}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"} {
		if got := e.attr(t, url, a); got != "0" {
			t.Errorf("%s after purge = %s", a, got)
		}
	}
	if got := e.receive(t, url, 10); len(got.Messages) != 0 {
		t.Errorf("received %d messages after purge", len(got.Messages))
	}
}

func TestSendToARN(t *testing.T) {
	e := newEnv(t, nil)
	url := e.createQueue(t, "inproc", nil)
	if err := e.svc.SendToARN(e.svc.QueueARN("inproc"), "from SNS", map[string]string{"source": "sns"}); err != nil {
		t.Fatal(err)
	}
	got := e.receive(t, url, 1)
	if len(got.Messages) != 1 || aws.ToString(got.Messages[0].Body) != "from SNS" ||
		aws.ToString(got.Messages[0].MessageAttributes["source"].StringValue) != "sns" {
		t.Fatalf("received %+v", got.Messages)
	}
	if err := e.svc.SendToARN(e.svc.QueueARN("nope"), "x", nil); !errors.Is(err, ErrQueueDoesNotExist) {
		t.Errorf("SendToARN(missing) = %v, want ErrQueueDoesNotExist", err)
	}
	if err := e.svc.SendToARN("arn:aws:sqs:eu-west-1:000000000000:inproc", "x", nil); !errors.Is(err, ErrQueueDoesNotExist) {
		t.Errorf("SendToARN(other region) = %v, want ErrQueueDoesNotExist", err)
	}
	arn, err := e.svc.CreateQueue("inproc", nil)
	if err != nil || arn != e.svc.QueueARN("inproc") {
		t.Errorf("CreateQueue(existing) = %s, %v", arn, err)
	}
	if _, err := e.svc.CreateQueue("inproc", map[string]string{"DelaySeconds": "5"}); err == nil {
		t.Error("CreateQueue with different attributes succeeded")
	}
}

func TestMessageRetention(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, clock)
	url := e.createQueue(t, "retention", map[string]string{"MessageRetentionPeriod": "60"})
	e.send(t, url, "old")
	clock.Advance(60 * time.Second)
	if got := e.receive(t, url, 10); len(got.Messages) != 0 {
		t.Errorf("expired message received: %+v", got.Messages)
	}
}
