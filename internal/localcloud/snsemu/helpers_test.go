package snsemu

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/vigilops/vigil/internal/localcloud/sqsemu"
)

// The SQS emulator is what the local cloud plugs in as QueueSender.
var _ QueueSender = (*sqsemu.Service)(nil)

// fakeClock is a manually set clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// env runs SNS and the real SQS emulator behind one server, routed as the
// local cloud does, with real SDK clients for both.
type env struct {
	sns    *Service
	sqs    *sqsemu.Service
	srv    *httptest.Server
	snsc   *sns.Client
	sqsc   *sqs.Client
	region string
}

type envOptions struct {
	region, account, endpoint string
	now                       func() time.Time
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	if o.region == "" {
		o.region = "us-east-1"
	}
	e := &env{region: o.region}
	e.sqs = sqsemu.New(sqsemu.Options{Region: o.region, AccountID: o.account, Now: o.now})
	e.sns = New(Options{Region: o.region, AccountID: o.account, Now: o.now, Queues: e.sqs, Endpoint: o.endpoint})
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case e.sqs.Match(r):
			e.sqs.ServeHTTP(w, r)
		case e.sns.Match(r):
			e.sns.ServeHTTP(w, r)
		default:
			http.Error(w, "no service", http.StatusNotFound)
		}
	}))
	t.Cleanup(e.srv.Close)
	creds := credentials.NewStaticCredentialsProvider("test", "test", "")
	e.snsc = sns.New(sns.Options{Region: o.region, BaseEndpoint: aws.String(e.srv.URL), Credentials: creds})
	e.sqsc = sqs.New(sqs.Options{Region: o.region, BaseEndpoint: aws.String(e.srv.URL), Credentials: creds})
	return e
}

// topic creates a topic through the SDK.
func (e *env) topic(t *testing.T, name string) string {
	t.Helper()
	out, err := e.snsc.CreateTopic(context.Background(), &sns.CreateTopicInput{Name: &name})
	if err != nil {
		t.Fatalf("CreateTopic %s: %v", name, err)
	}
	return aws.ToString(out.TopicArn)
}

// queue creates a queue through the SDK and returns its URL and ARN.
func (e *env) queue(t *testing.T, name string) (url, arn string) {
	t.Helper()
	out, err := e.sqsc.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: &name})
	if err != nil {
		t.Fatalf("CreateQueue %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl), e.sqs.QueueARN(name)
}

// subscribe subscribes a queue with optional subscription attributes.
func (e *env) subscribe(t *testing.T, topicARN, queueARN string, attrs map[string]string) string {
	t.Helper()
	out, err := e.snsc.Subscribe(context.Background(), &sns.SubscribeInput{
		TopicArn: &topicARN, Protocol: aws.String("sqs"), Endpoint: &queueARN, Attributes: attrs,
		ReturnSubscriptionArn: true,
	})
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	return aws.ToString(out.SubscriptionArn)
}

// receiveAll short-polls up to 10 messages with all message attributes.
func (e *env) receiveAll(t *testing.T, queueURL string) []sqstypes.Message {
	t.Helper()
	out, err := e.sqsc.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: &queueURL, MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"},
	})
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	return out.Messages
}

// receiveOne expects exactly one message on the queue.
func (e *env) receiveOne(t *testing.T, queueURL string) sqstypes.Message {
	t.Helper()
	msgs := e.receiveAll(t, queueURL)
	if len(msgs) != 1 {
		t.Fatalf("queue %s holds %d messages, want 1", queueURL, len(msgs))
	}
	return msgs[0]
}

// wantAPIError asserts that err is (or wraps) a T whose ErrorCode is code.
func wantAPIError[T smithy.APIError](t *testing.T, err error, code string) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("error %v (%T) is not a %T", err, err, target)
	}
	if got := target.ErrorCode(); got != code {
		t.Fatalf("ErrorCode() = %q, want %q (error %v)", got, code, err)
	}
	return target
}
