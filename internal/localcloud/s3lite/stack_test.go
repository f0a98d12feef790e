package s3lite

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/vigilops/vigil/internal/localcloud/snsemu"
	"github.com/vigilops/vigil/internal/localcloud/sqsemu"
)

// stack is s3lite with the SQS and SNS emulators behind one endpoint, as
// the local cloud serves them, and real SDK clients.
type stack struct {
	svc *Service
	sqs *sqsemu.Service
	sns *snsemu.Service
	S3  *s3.Client
	SQS *sqs.Client
}

func newStack(t *testing.T, opts Options) *stack {
	t.Helper()
	st := &stack{sqs: sqsemu.New(sqsemu.Options{})}
	st.sns = snsemu.New(snsemu.Options{Queues: st.sqs})
	opts.Queues, opts.Topics = st.sqs, st.sns
	svc, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	st.svc = svc
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case st.sqs.Match(r):
			st.sqs.ServeHTTP(w, r)
		case st.sns.Match(r):
			st.sns.ServeHTTP(w, r)
		default:
			svc.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(func() {
		srv.Close()
		if err := svc.Close(); err != nil {
			t.Error(err)
		}
	})
	st.S3 = client(srv.URL)
	st.SQS = sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	return st
}

// queue creates an SQS queue through the API; it returns its URL and ARN.
func (st *stack) queue(t *testing.T, name string) (url, arn string) {
	t.Helper()
	out, err := st.SQS.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.QueueUrl), st.sqs.QueueARN(name)
}

// receive long-polls one message for up to wait seconds and deletes it;
// "" means none came.
func (st *stack) receive(t *testing.T, url string, wait int32) string {
	t.Helper()
	ctx := context.Background()
	out, err := st.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: wait, MaxNumberOfMessages: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) == 0 {
		return ""
	}
	m := out.Messages[0]
	if _, err := st.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	return aws.ToString(m.Body)
}

// record receives one message (waiting up to 5 s) and decodes its single
// S3 event record.
func (st *stack) record(t *testing.T, url string) eventRecord {
	t.Helper()
	body := st.receive(t, url, 5)
	if body == "" {
		t.Fatalf("no event on %s", url)
	}
	return decodeRecord(t, body)
}

func decodeRecord(t *testing.T, body string) eventRecord {
	t.Helper()
	var msg struct{ Records []eventRecord }
	if err := json.Unmarshal([]byte(body), &msg); err != nil || len(msg.Records) != 1 {
		t.Fatalf("not one S3 event record (%v): %s", err, body)
	}
	return msg.Records[0]
}

// createBucket creates a bucket through the API.
func (st *stack) createBucket(t *testing.T, name string) {
	t.Helper()
	if _, err := st.S3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
}

// put stores an object through the API.
func (st *stack) put(t *testing.T, bucket, key, body string, class string) *s3.PutObjectOutput {
	t.Helper()
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}
	if class != "" {
		in.StorageClass = types.StorageClass(class)
	}
	out, err := st.S3.PutObject(context.Background(), in)
	if err != nil {
		t.Fatalf("PutObject %s: %v", key, err)
	}
	return out
}

// waitRestored polls HEAD until the restore is done and returns the
// x-amz-restore value.
func (st *stack) waitRestored(t *testing.T, bucket, key string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		h, err := st.S3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		if r := aws.ToString(h.Restore); strings.HasPrefix(r, `ongoing-request="false"`) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("restore of %s not done: %q", key, aws.ToString(h.Restore))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// statusOf is the HTTP status behind an SDK result.
func statusOf(md middleware.Metadata) int {
	return awsmiddleware.GetRawResponse(md).(*smithyhttp.Response).StatusCode
}
