package sqsemu

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
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// fakeClock is a manually advanced clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 10, 17, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is an emulator behind an httptest server with a real SDK client.
type env struct {
	svc    *Service
	srv    *httptest.Server
	client *sqs.Client
	// served receives the operation name each time a request has been
	// fully served.
	served chan string
}

func newEnv(t *testing.T, clock *fakeClock) *env {
	t.Helper()
	opts := Options{}
	if clock != nil {
		opts.Now = clock.Now
	}
	e := &env{svc: New(opts), served: make(chan string, 100)}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.svc.ServeHTTP(w, r)
		select {
		case e.served <- r.Header.Get("X-Amz-Target"):
		default:
		}
	}))
	t.Cleanup(e.srv.Close)
	e.client = sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(e.srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	return e
}

func (e *env) createQueue(t *testing.T, name string, attrs map[string]string) string {
	t.Helper()
	out, err := e.client.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: &name, Attributes: attrs})
	if err != nil {
		t.Fatalf("CreateQueue %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl)
}

func (e *env) send(t *testing.T, queueURL, body string) string {
	t.Helper()
	out, err := e.client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &queueURL, MessageBody: &body})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	return aws.ToString(out.MessageId)
}

// receive short-polls up to n messages with all attributes.
func (e *env) receive(t *testing.T, queueURL string, n int32) *sqs.ReceiveMessageOutput {
	t.Helper()
	out, err := e.client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl:                    &queueURL,
		MaxNumberOfMessages:         n,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{"All"},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	return out
}

func (e *env) attr(t *testing.T, queueURL, name string) string {
	t.Helper()
	out, err := e.client.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: &queueURL, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeName(name)},
	})
	if err != nil {
		t.Fatalf("GetQueueAttributes %s: %v", name, err)
	}
	return out.Attributes[name]
}

// setWaitHook installs fn to run whenever a long poll starts waiting.
func (s *Service) setWaitHook(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waitHook = fn
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
