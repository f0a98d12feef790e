package sqsemu

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Bounds for waiting on real conditions; far above the expected latency
// and far below the 20 s long-poll wait that would mean "not woken".
const (
	setupDeadline  = 10 * time.Second
	promptDeadline = 5 * time.Second
)

type receiveResult struct {
	out     *sqs.ReceiveMessageOutput
	err     error
	elapsed time.Duration
}

// startLongPoll starts a ReceiveMessage with WaitTimeSeconds in the
// background and returns once the emulator reports it is waiting.
func startLongPoll(t *testing.T, ctx context.Context, e *env, in *sqs.ReceiveMessageInput) <-chan receiveResult {
	t.Helper()
	waiting := make(chan struct{}, 1)
	e.svc.setWaitHook(func() {
		select {
		case waiting <- struct{}{}:
		default:
		}
	})
	done := make(chan receiveResult, 1)
	start := time.Now()
	go func() {
		out, err := e.client.ReceiveMessage(ctx, in)
		done <- receiveResult{out, err, time.Since(start)}
	}()
	select {
	case <-waiting:
	case r := <-done:
		t.Fatalf("long poll returned before waiting: %+v", r)
	case <-time.After(setupDeadline):
		t.Fatal("long poll never started waiting")
	}
	return done
}

func TestLongPollReturnsMessageSentMidWait(t *testing.T) {
	e := newEnv(t, nil)
	url := e.createQueue(t, "longpoll", nil)
	done := startLongPoll(t, context.Background(), e, &sqs.ReceiveMessageInput{QueueUrl: &url, WaitTimeSeconds: 20})

	id := e.send(t, url, "wake up")
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		if len(r.out.Messages) != 1 || aws.ToString(r.out.Messages[0].MessageId) != id {
			t.Fatalf("long poll returned %+v, want message %s", r.out.Messages, id)
		}
		if r.elapsed > promptDeadline {
			t.Errorf("long poll took %v to return a message sent mid-wait", r.elapsed)
		}
	case <-time.After(promptDeadline):
		t.Fatal("long poll did not return the message sent during the wait")
	}
}

func TestLongPollUsesQueueDefaultWait(t *testing.T) {
	e := newEnv(t, nil)
	url := e.createQueue(t, "default-wait", map[string]string{"ReceiveMessageWaitTimeSeconds": "20"})
	// No WaitTimeSeconds in the request: the queue's 20 s applies, so the
	// request must be waiting (the hook fires) rather than returning empty.
	done := startLongPoll(t, context.Background(), e, &sqs.ReceiveMessageInput{QueueUrl: &url})
	if err := e.svc.SendToARN(e.svc.QueueARN("default-wait"), "hi", nil); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil || len(r.out.Messages) != 1 {
			t.Fatalf("got %+v, %v", r.out, r.err)
		}
	case <-time.After(promptDeadline):
		t.Fatal("long poll on queue default wait did not return the message")
	}
}

func TestLongPollWakesWhenVisibilityTimeoutExpires(t *testing.T) {
	e := newEnv(t, nil)
	url := e.createQueue(t, "vis-wake", nil)
	e.send(t, url, "retry me")
	first, err := e.client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &url, VisibilityTimeout: 1})
	if err != nil || len(first.Messages) != 1 {
		t.Fatalf("first receive: %+v, %v", first, err)
	}
	start := time.Now()
	second, err := e.client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: &url, WaitTimeSeconds: 20,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{"ApproximateReceiveCount"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Messages) != 1 || second.Messages[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("second receive = %+v", second.Messages)
	}
	if elapsed := time.Since(start); elapsed > promptDeadline {
		t.Errorf("message reappeared after %v, visibility timeout was 1s", elapsed)
	}
}

func TestLongPollEndsWhenClientCancels(t *testing.T) {
	e := newEnv(t, nil)
	url := e.createQueue(t, "cancel", nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := startLongPoll(t, ctx, e, &sqs.ReceiveMessageInput{QueueUrl: &url, WaitTimeSeconds: 20})
	cancel()
	select {
	case r := <-done:
		if !errors.Is(r.err, context.Canceled) {
			t.Fatalf("cancelled long poll error = %v", r.err)
		}
	case <-time.After(promptDeadline):
		t.Fatal("client did not return after cancel")
	}
	// The server side stops waiting too (it does not hold the request for 20 s).
	deadline := time.After(promptDeadline)
	for op := ""; op != "AmazonSQS.ReceiveMessage"; {
		select {
		case op = <-e.served:
		case <-deadline:
			t.Fatal("server kept waiting after the client went away")
		}
	}
	// The abandoned poll did not consume a message sent afterwards.
	e.send(t, url, "later")
	got := e.receive(t, url, 1)
	if len(got.Messages) != 1 || got.Messages[0].Attributes["ApproximateReceiveCount"] != "1" {
		t.Fatalf("after cancel got %+v", got.Messages)
	}
}

func TestLongPollTimesOutEmpty(t *testing.T) {
	e := newEnv(t, nil)
	url := e.createQueue(t, "empty", nil)
	start := time.Now()
	out, err := e.client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &url, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 0 {
		t.Fatalf("got %d messages from an empty queue", len(out.Messages))
	}
	if elapsed := time.Since(start); elapsed < time.Second {
		t.Errorf("long poll of 1s returned after %v", elapsed)
	}
}

func TestLongPollFailsWhenQueueDeleted(t *testing.T) {
	e := newEnv(t, nil)
	url := e.createQueue(t, "deleted-mid-wait", nil)
	done := startLongPoll(t, context.Background(), e, &sqs.ReceiveMessageInput{QueueUrl: &url, WaitTimeSeconds: 20})
	if _, err := e.client.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: &url}); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		wantAPIError[*sqstypes.QueueDoesNotExist](t, r.err, "AWS.SimpleQueueService.NonExistentQueue")
	case <-time.After(promptDeadline):
		t.Fatal("long poll on a deleted queue did not end")
	}
}
