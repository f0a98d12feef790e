package router

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func TestBackoffBounds(t *testing.T) {
	base, limit := 100*time.Millisecond, time.Second
	for n := 1; n <= 40; n++ {
		full := min(base<<min(n-1, 20), limit)
		for range 50 {
			d := backoff(base, limit, n)
			if d < full/2 || d > full {
				t.Fatalf("backoff(n=%d) = %v, want in [%v, %v]", n, d, full/2, full)
			}
		}
	}
}

// scriptedSQS answers ReceiveMessage from a script, then blocks until the
// context is done. DeleteMessage is not expected.
type scriptedSQS struct {
	mu      sync.Mutex
	script  []error // nil entry: an empty successful receive
	calls   int
	blocked chan struct{}
}

func (f *scriptedSQS) ReceiveMessage(ctx context.Context, _ *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	f.mu.Lock()
	i := f.calls
	f.calls++
	f.mu.Unlock()
	if i < len(f.script) {
		if err := f.script[i]; err != nil {
			return nil, err
		}
		return &sqs.ReceiveMessageOutput{}, nil
	}
	if i == len(f.script) {
		close(f.blocked)
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

func (f *scriptedSQS) DeleteMessage(context.Context, *sqs.DeleteMessageInput, ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	return nil, errors.New("unexpected DeleteMessage")
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestReceiveErrorsBackOff checks the pauses between failing receives: they
// double up to the cap, reset after a success, and an empty receive that
// returns at once (an endpoint that does not long-poll) also pauses.
func TestReceiveErrorsBackOff(t *testing.T) {
	boom := errors.New("boom")
	fake := &scriptedSQS{
		script:  []error{boom, boom, boom, boom, boom, nil, boom, boom},
		blocked: make(chan struct{}),
	}
	base, limit := 100*time.Millisecond, 400*time.Millisecond
	r := New(fake, Options{Logger: quietLogger(), ErrorBackoff: base, MaxErrorBackoff: limit})
	var mu sync.Mutex
	var pauses []time.Duration
	r.sleep = func(_ context.Context, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		pauses = append(pauses, d)
	}

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, "q") }()
	select {
	case <-fake.blocked:
	case <-time.After(10 * time.Second):
		t.Fatal("the script did not run to its end")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}

	want := [][2]time.Duration{ // [min, max] of each pause
		{50, 100}, {100, 200}, {200, 400}, {200, 400}, {200, 400}, // failures, capped
		{100, 100},            // the empty receive came back at once
		{50, 100}, {100, 200}, // failures again, from the start
	}
	mu.Lock()
	defer mu.Unlock()
	if len(pauses) != len(want) {
		t.Fatalf("pauses = %v, want %d of them", pauses, len(want))
	}
	for i, w := range want {
		lo, hi := w[0]*time.Millisecond, w[1]*time.Millisecond
		if pauses[i] < lo || pauses[i] > hi {
			t.Errorf("pause %d = %v, want in [%v, %v] (all: %v)", i, pauses[i], lo, hi, pauses)
		}
	}
	if s := r.Stats(); s.ReceiveErrors != 7 || s.Received != 0 {
		t.Errorf("Stats = %+v, want 7 receive errors", s)
	}
}

func TestQueuesAndRunTwice(t *testing.T) {
	fake := &scriptedSQS{blocked: make(chan struct{})}
	r := New(fake, Options{Logger: quietLogger()})
	r.AddQueue("a")
	r.AddQueue("b")
	r.AddQueue("a")
	r.AddQueue("")
	if got := r.Queues(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("Queues = %v", got)
	}

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, "b", "c") }()
	<-fake.blocked // the first receive reached the fake, so Run is running
	if err := r.Run(ctx); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run = %v, want ErrRunning", err)
	}
	if got := r.Queues(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("Queues = %v", got)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}
