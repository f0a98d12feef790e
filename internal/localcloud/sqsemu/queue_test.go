package sqsemu

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

func TestCreateQueueURLAndIdempotency(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	url := e.createQueue(t, "jobs", map[string]string{"VisibilityTimeout": "45"})
	want := e.srv.URL + "/000000000000/jobs"
	if url != want {
		t.Fatalf("QueueUrl = %q, want %q", url, want)
	}
	// Same attributes (and none at all) return the same queue.
	if again := e.createQueue(t, "jobs", map[string]string{"VisibilityTimeout": "45"}); again != url {
		t.Fatalf("second CreateQueue = %q, want %q", again, url)
	}
	if again := e.createQueue(t, "jobs", nil); again != url {
		t.Fatalf("CreateQueue without attributes = %q, want %q", again, url)
	}
	// A different value is a conflict.
	_, err := e.client.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String("jobs"), Attributes: map[string]string{"VisibilityTimeout": "60"},
	})
	wantAPIError[*sqstypes.QueueNameExists](t, err, "QueueAlreadyExists")

	got, err := e.client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("jobs")})
	if err != nil || aws.ToString(got.QueueUrl) != url {
		t.Fatalf("GetQueueUrl = %v, %v; want %s", aws.ToString(got.QueueUrl), err, url)
	}
	if e.svc.QueueARN("jobs") != "arn:aws:sqs:us-east-1:000000000000:jobs" {
		t.Fatalf("QueueARN = %s", e.svc.QueueARN("jobs"))
	}
}

func TestQueueURLWithAnyHost(t *testing.T) {
	e := newEnv(t, nil)
	e.createQueue(t, "anyhost", nil)
	for _, url := range []string{
		"http://localhost:4566/000000000000/anyhost",
		"https://sqs.us-east-1.amazonaws.com/000000000000/anyhost",
		"http://sqs.us-east-1.localhost.localstack.cloud:4566/000000000000/anyhost",
	} {
		if got := e.attr(t, url, "QueueArn"); got != "arn:aws:sqs:us-east-1:000000000000:anyhost" {
			t.Errorf("QueueArn via %s = %q", url, got)
		}
	}
	// Another account's queue of the same name does not exist here.
	_, err := e.client.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String("http://localhost/111122223333/anyhost"),
	})
	wantAPIError[*sqstypes.QueueDoesNotExist](t, err, "AWS.SimpleQueueService.NonExistentQueue")
}

func TestQueueAttributes(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, clock)
	ctx := context.Background()
	dlqURL := e.createQueue(t, "attrs-dlq", nil)
	url := e.createQueue(t, "attrs", map[string]string{
		"DelaySeconds":  "0",
		"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:attrs-dlq","maxReceiveCount":"3"}`,
	})
	e.send(t, url, "one")
	e.send(t, url, "two")
	e.receive(t, url, 1)

	out, err := e.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{"All"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"QueueArn":                              "arn:aws:sqs:us-east-1:000000000000:attrs",
		"ApproximateNumberOfMessages":           "1",
		"ApproximateNumberOfMessagesNotVisible": "1",
		"ApproximateNumberOfMessagesDelayed":    "0",
		"CreatedTimestamp":                      "1792238400",
		"LastModifiedTimestamp":                 "1792238400",
		"VisibilityTimeout":                     "30",
		"DelaySeconds":                          "0",
		"MaximumMessageSize":                    "1048576",
		"MessageRetentionPeriod":                "345600",
		"ReceiveMessageWaitTimeSeconds":         "0",
		"SqsManagedSseEnabled":                  "false",
		"RedrivePolicy":                         `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:attrs-dlq","maxReceiveCount":3}`,
	}
	for k, v := range want {
		if out.Attributes[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, out.Attributes[k], v)
		}
	}
	if len(out.Attributes) != len(want) {
		t.Errorf("All returned %d attributes, want %d: %v", len(out.Attributes), len(want), out.Attributes)
	}

	// Set, read back, and remove an optional attribute.
	policy := `{"Version":"2012-10-17","Statement":[]}`
	clock.Advance(10 * time.Second)
	if _, err := e.client.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: &url,
		Attributes: map[string]string{"Policy": policy, "VisibilityTimeout": "5", "ReceiveMessageWaitTimeSeconds": "20"},
	}); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"Policy": policy, "VisibilityTimeout": "5",
		"ReceiveMessageWaitTimeSeconds": "20", "LastModifiedTimestamp": "1792238410", "CreatedTimestamp": "1792238400"} {
		if got := e.attr(t, url, k); got != v {
			t.Errorf("after Set, %s = %q, want %q", k, got, v)
		}
	}
	if _, err := e.client.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: &url,
		Attributes: map[string]string{"Policy": ""}}); err != nil {
		t.Fatal(err)
	}
	if got := e.attr(t, url, "Policy"); got != "" {
		t.Errorf("Policy after removal = %q", got)
	}

	srcs, err := e.client.ListDeadLetterSourceQueues(ctx, &sqs.ListDeadLetterSourceQueuesInput{QueueUrl: &dlqURL})
	if err != nil || len(srcs.QueueUrls) != 1 || srcs.QueueUrls[0] != url {
		t.Errorf("ListDeadLetterSourceQueues = %v, %v; want [%s]", srcs.QueueUrls, err, url)
	}
}

func TestQueueAttributeErrors(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	url := e.createQueue(t, "attr-errors", nil)
	tests := []struct {
		name  string
		attrs map[string]string
		code  string
	}{
		{"unknown name", map[string]string{"Colour": "blue"}, "InvalidAttributeName"},
		{"read-only", map[string]string{"QueueArn": "x"}, "InvalidAttributeName"},
		{"out of range", map[string]string{"VisibilityTimeout": "43201"}, "InvalidAttributeValue"},
		{"not a number", map[string]string{"DelaySeconds": "soon"}, "InvalidAttributeValue"},
		{"policy not JSON", map[string]string{"Policy": "{"}, "InvalidAttributeValue"},
		{"missing DLQ", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:nope","maxReceiveCount":1}`}, "InvalidParameterValue"},
		{"bad maxReceiveCount", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:attr-errors","maxReceiveCount":0}`}, "InvalidParameterValue"},
		{"FIFO", map[string]string{"FifoQueue": "true"}, "AWS.SimpleQueueService.UnsupportedOperation"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.client.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: &url, Attributes: tc.attrs})
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
				t.Fatalf("SetQueueAttributes(%v) error = %v, want code %s", tc.attrs, err, tc.code)
			}
		})
	}
	_, err := e.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{"Colour"},
	})
	wantAPIError[*sqstypes.InvalidAttributeName](t, err, "InvalidAttributeName")
}

func TestListQueues(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	for _, n := range []string{"b-two", "a-one", "b-one", "b-three", "c"} {
		e.createQueue(t, n, nil)
	}
	out, err := e.client.ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String("b-")})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{e.srv.URL + "/000000000000/b-one", e.srv.URL + "/000000000000/b-three", e.srv.URL + "/000000000000/b-two"}
	if strings.Join(out.QueueUrls, " ") != strings.Join(want, " ") || out.NextToken != nil {
		t.Fatalf("ListQueues(b-) = %v next %v, want %v", out.QueueUrls, out.NextToken, want)
	}
	// Paging with MaxResults visits every queue once.
	var all []string
	p := sqs.NewListQueuesPaginator(e.client, &sqs.ListQueuesInput{MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.QueueUrls) > 2 {
			t.Fatalf("page of %d > MaxResults 2", len(page.QueueUrls))
		}
		all = append(all, page.QueueUrls...)
	}
	if len(all) != 5 || !strings.HasSuffix(all[0], "/a-one") || !strings.HasSuffix(all[4], "/c") {
		t.Fatalf("paged ListQueues = %v", all)
	}
}

func TestDeleteQueue(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	url := e.createQueue(t, "doomed", nil)
	if _, err := e.client.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: &url}); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("x")})
	wantAPIError[*sqstypes.QueueDoesNotExist](t, err, "AWS.SimpleQueueService.NonExistentQueue")
	_, err = e.client.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: &url})
	wantAPIError[*sqstypes.QueueDoesNotExist](t, err, "AWS.SimpleQueueService.NonExistentQueue")
}

func TestTags(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	out, err := e.client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("tagged"), Tags: map[string]string{"team": "ops"}})
	if err != nil {
		t.Fatal(err)
	}
	url := out.QueueUrl
	if _, err := e.client.TagQueue(ctx, &sqs.TagQueueInput{QueueUrl: url, Tags: map[string]string{"env": "dev"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.UntagQueue(ctx, &sqs.UntagQueueInput{QueueUrl: url, TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := e.client.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: url})
	if err != nil || len(tags.Tags) != 1 || tags.Tags["env"] != "dev" {
		t.Fatalf("ListQueueTags = %v, %v; want env=dev only", tags.Tags, err)
	}
}

func TestTypedErrors(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	missing := e.srv.URL + "/000000000000/missing"

	_, err := e.client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("missing")})
	qdne := wantAPIError[*sqstypes.QueueDoesNotExist](t, err, "AWS.SimpleQueueService.NonExistentQueue")
	if qdne.ErrorFault() != smithy.FaultClient || qdne.ErrorMessage() == "" {
		t.Errorf("fault %v message %q", qdne.ErrorFault(), qdne.ErrorMessage())
	}

	calls := []struct {
		name string
		call func() error
	}{
		{"SendMessage", func() error {
			_, err := e.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &missing, MessageBody: aws.String("x")})
			return err
		}},
		{"ReceiveMessage", func() error {
			_, err := e.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &missing, WaitTimeSeconds: 5})
			return err
		}},
		{"PurgeQueue", func() error {
			_, err := e.client.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: &missing})
			return err
		}},
		{"GetQueueAttributes", func() error {
			_, err := e.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &missing})
			return err
		}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			wantAPIError[*sqstypes.QueueDoesNotExist](t, c.call(), "AWS.SimpleQueueService.NonExistentQueue")
		})
	}

	url := e.createQueue(t, "errs", nil)
	_, err = e.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: aws.String("garbage")})
	wantAPIError[*sqstypes.ReceiptHandleIsInvalid](t, err, "ReceiptHandleIsInvalid")

	_, err = e.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 11})
	wantAPIError[*smithy.GenericAPIError](t, err, "InvalidParameterValue")

	_, err = e.client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("bad name!")})
	wantAPIError[*smithy.GenericAPIError](t, err, "InvalidParameterValue")
}

// rawCall posts body to the emulator with the given target.
func rawCall(t *testing.T, svc *Service, target, body string) (*http.Response, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	if !svc.Match(req) {
		t.Fatalf("Match(%s) = false", target)
	}
	rec := httptest.NewRecorder()
	svc.ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("response %q is not JSON: %v", b, err)
	}
	return res, out
}

func TestRawProtocol(t *testing.T) {
	svc := New(Options{})
	tests := []struct {
		name       string
		target     string
		body       string
		status     int
		typ        string
		queryError string
	}{
		{"unknown op", "AmazonSQS.FlyToTheMoon", `{}`, 400, "com.amazonaws.sqs#UnsupportedOperation",
			"AWS.SimpleQueueService.UnsupportedOperation;Sender"},
		{"bad JSON", "AmazonSQS.CreateQueue", `{"QueueName":`, 400, "SerializationException", ""},
		{"wrong type", "AmazonSQS.CreateQueue", `{"QueueName":7}`, 400, "SerializationException", ""},
		{"missing queue", "AmazonSQS.GetQueueUrl", `{"QueueName":"nope"}`, 400, "com.amazonaws.sqs#QueueDoesNotExist",
			"AWS.SimpleQueueService.NonExistentQueue;Sender"},
		{"missing parameter", "AmazonSQS.SendMessage", `{}`, 400, "MissingParameter", "MissingParameter;Sender"},
		{"create", "AmazonSQS.CreateQueue", `{"QueueName":"raw"}`, 200, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, out := rawCall(t, svc, tc.target, tc.body)
			if res.StatusCode != tc.status {
				t.Errorf("status = %d, want %d", res.StatusCode, tc.status)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/x-amz-json-1.0" {
				t.Errorf("Content-Type = %q", ct)
			}
			if got, _ := out["__type"].(string); got != tc.typ {
				t.Errorf("__type = %q, want %q", got, tc.typ)
			}
			if got := res.Header.Get("X-Amzn-Query-Error"); got != tc.queryError {
				t.Errorf("X-Amzn-Query-Error = %q, want %q", got, tc.queryError)
			}
			if tc.status == 200 && out["QueueUrl"] != "http://example.com/000000000000/raw" {
				t.Errorf("QueueUrl = %v", out["QueueUrl"])
			}
		})
	}
	other := httptest.NewRequest(http.MethodPost, "/", nil)
	other.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	if svc.Match(other) || svc.Name() != "sqs" {
		t.Error("Match accepted a non-SQS target or Name is wrong")
	}
}
