package router

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/vigilops/vigil/internal/localcloud/sqsemu"
)

// waitFor bounds every wait on a condition in the router tests.
const waitFor = 10 * time.Second

// emu is vigil's SQS emulator behind an httptest server, driven by the real
// SDK client.
type emu struct {
	t      *testing.T
	client *sqs.Client
	// api is what routers use; the client unless a test wraps it.
	api SQSAPI
	// receives gets the QueueUrl of each ReceiveMessage request that reaches
	// the server (dropped when nobody listens).
	receives chan string
}

func newEmu(t *testing.T) *emu {
	t.Helper()
	e := &emu{t: t, receives: make(chan string, 16)}
	handler := sqsemu.New(sqsemu.Options{Region: "us-east-1", AccountID: "000000000000"})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") == "AmazonSQS.ReceiveMessage" {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			var in struct{ QueueUrl string }
			_ = json.Unmarshal(body, &in)
			select {
			case e.receives <- in.QueueUrl:
			default:
			}
		}
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	e.client = sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, nil
		}),
	})
	e.api = e.client
	return e
}

// createQueue creates a queue with the given attributes and returns its URL.
func (e *emu) createQueue(name string, attrs map[string]string) string {
	e.t.Helper()
	out, err := e.client.CreateQueue(e.t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		e.t.Fatalf("CreateQueue %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl)
}

func (e *emu) queueARN(url string) string {
	e.t.Helper()
	return e.attrs(url, types.QueueAttributeNameQueueArn)[string(types.QueueAttributeNameQueueArn)]
}

func (e *emu) attrs(url string, names ...types.QueueAttributeName) map[string]string {
	e.t.Helper()
	out, err := e.client.GetQueueAttributes(e.t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: names})
	if err != nil {
		e.t.Fatalf("GetQueueAttributes: %v", err)
	}
	return out.Attributes
}

// depth returns the numbers of visible and in-flight messages in a queue.
func (e *emu) depth(url string) (visible, inFlight int) {
	e.t.Helper()
	a := e.attrs(url, types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)
	visible, _ = strconv.Atoi(a[string(types.QueueAttributeNameApproximateNumberOfMessages)])
	inFlight, _ = strconv.Atoi(a[string(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
	return visible, inFlight
}

// send sends body to a queue and returns the message id.
func (e *emu) send(url, body string) string {
	e.t.Helper()
	out, err := e.client.SendMessage(e.t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)})
	if err != nil {
		e.t.Fatalf("SendMessage: %v", err)
	}
	return aws.ToString(out.MessageId)
}

// receiveOne long-polls a queue for one message, failing the test if none
// arrives within waitSeconds.
func (e *emu) receiveOne(url string, waitSeconds int32) types.Message {
	e.t.Helper()
	out, err := e.client.ReceiveMessage(e.t.Context(), &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(url),
		WaitTimeSeconds:             waitSeconds,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	})
	if err != nil {
		e.t.Fatalf("ReceiveMessage: %v", err)
	}
	if len(out.Messages) != 1 {
		e.t.Fatalf("received %d messages from %s, want 1", len(out.Messages), url)
	}
	return out.Messages[0]
}

// awaitReceive waits until a ReceiveMessage request for each of urls has
// reached the server.
func (e *emu) awaitReceive(urls ...string) {
	e.t.Helper()
	pending := make(map[string]bool)
	for _, u := range urls {
		pending[u] = true
	}
	deadline := time.After(waitFor)
	for len(pending) > 0 {
		select {
		case got := <-e.receives:
			delete(pending, got)
		case <-deadline:
			e.t.Fatalf("no ReceiveMessage for %v within %v", pending, waitFor)
		}
	}
}

// event is one processed message, as reported by Router.observe.
type event struct {
	outcome outcome
	info    MessageInfo
}

// running is a Router started by startRouter.
type running struct {
	t      *testing.T
	r      *Router
	events chan event
	logs   *logBuffer
	cancel context.CancelFunc
	done   chan error
}

// startRouter runs a router over the emulator, with handlers registered by
// setup before Run.
func startRouter(t *testing.T, e *emu, opts Options, setup func(*Router), queues ...string) *running {
	t.Helper()
	logs := &logBuffer{}
	opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r := New(e.api, opts)
	rr := &running{t: t, r: r, events: make(chan event, 64), logs: logs, done: make(chan error, 1)}
	r.observe = func(o outcome, info MessageInfo) { rr.events <- event{o, info} }
	if setup != nil {
		setup(r)
	}
	ctx, cancel := context.WithCancel(t.Context())
	rr.cancel = cancel
	go func() { rr.done <- r.Run(ctx, queues...) }()
	t.Cleanup(func() { rr.stop() })
	return rr
}

// next waits for the next processed message.
func (rr *running) next() event {
	rr.t.Helper()
	select {
	case ev := <-rr.events:
		return ev
	case <-time.After(waitFor):
		rr.t.Fatalf("no message processed within %v; stats %+v", waitFor, rr.r.Stats())
		return event{}
	}
}

// stop cancels Run and waits for it to return.
func (rr *running) stop() {
	rr.t.Helper()
	rr.cancel()
	select {
	case err, ok := <-rr.done:
		if ok && err != nil {
			rr.t.Errorf("Run = %v", err)
		}
		if ok {
			close(rr.done)
		}
	case <-time.After(waitFor):
		rr.t.Fatalf("Run did not return within %v of cancel", waitFor)
	}
}

// logBuffer collects log output safely across goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
