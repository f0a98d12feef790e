package glacieremu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/vigilops/vigil/internal/localcloud/snsemu"
	"github.com/vigilops/vigil/internal/localcloud/sqsemu"
)

// The SNS emulator is what the local cloud plugs in as Publisher.
var _ Publisher = (*snsemu.Service)(nil)

var fast = map[string]time.Duration{"Expedited": 20 * time.Millisecond, "Standard": 50 * time.Millisecond, "Bulk": 100 * time.Millisecond}

// env serves Glacier, SNS and SQS behind one server, routed as the local
// cloud does, with the real SDK clients.
type env struct {
	svc  *Service
	sqs  *sqsemu.Service
	sns  *snsemu.Service
	srv  *httptest.Server
	g    *glacier.Client
	snsc *sns.Client
	sqsc *sqs.Client
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	e := &env{sqs: sqsemu.New(sqsemu.Options{})}
	e.sns = snsemu.New(snsemu.Options{Queues: e.sqs})
	if opts.TierDelays == nil {
		opts.TierDelays = fast
	}
	opts.Topics = e.sns
	svc, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	t.Cleanup(func() { _ = svc.Close() })
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case e.sqs.Match(r):
			e.sqs.ServeHTTP(w, r)
		case e.sns.Match(r):
			e.sns.ServeHTTP(w, r)
		case e.svc.Match(r):
			e.svc.ServeHTTP(w, r)
		default:
			http.Error(w, "no service", http.StatusNotFound)
		}
	}))
	t.Cleanup(e.srv.Close)
	creds := credentials.NewStaticCredentialsProvider("test", "test", "")
	ep := aws.String(e.srv.URL)
	e.g = glacier.New(glacier.Options{Region: "us-east-1", BaseEndpoint: ep, Credentials: creds})
	e.snsc = sns.New(sns.Options{Region: "us-east-1", BaseEndpoint: ep, Credentials: creds})
	e.sqsc = sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: ep, Credentials: creds})
	return e
}

// notified subscribes a new queue to a new topic and returns the topic ARN
// and the queue URL.
func (e *env) notified(t *testing.T, name string) (topicARN, queueURL string) {
	t.Helper()
	ctx := context.Background()
	q, err := e.sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	tp, err := e.snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.snsc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: tp.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String(e.sqs.QueueARN(name))}); err != nil {
		t.Fatal(err)
	}
	return aws.ToString(tp.TopicArn), aws.ToString(q.QueueUrl)
}

// receive long-polls the queue for one message and returns the SNS
// envelope's Message decoded.
func (e *env) receive(t *testing.T, queueURL string) map[string]any {
	t.Helper()
	out, err := e.sqsc.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), WaitTimeSeconds: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("got %d messages, want 1", len(out.Messages))
	}
	var env struct{ Type, TopicArn, Message string }
	if err := json.Unmarshal([]byte(aws.ToString(out.Messages[0].Body)), &env); err != nil || env.Type != "Notification" {
		t.Fatalf("not an SNS envelope: %s (%v)", aws.ToString(out.Messages[0].Body), err)
	}
	var msg map[string]any
	if err := json.Unmarshal([]byte(env.Message), &msg); err != nil {
		t.Fatalf("message %q: %v", env.Message, err)
	}
	return msg
}

// waitDone polls DescribeJob until the job completes (bounded).
func (e *env) waitDone(t *testing.T, vault, jobID string) *glacier.DescribeJobOutput {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, err := e.g.DescribeJob(context.Background(), &glacier.DescribeJobInput{VaultName: aws.String(vault), JobId: aws.String(jobID)})
		if err != nil {
			t.Fatal(err)
		}
		if d.Completed {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s after 10s", jobID, d.StatusCode)
		}
		<-time.After(10 * time.Millisecond)
	}
}

// randomBytes returns n deterministic bytes.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// bodyOf reads a GetJobOutput answer.
func bodyOf(t *testing.T, out *glacier.GetJobOutputOutput) []byte {
	t.Helper()
	defer out.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(out.Body); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// errCode is the API error code of err ("" if none).
func errCode(err error) string {
	var ae interface{ ErrorCode() string }
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
