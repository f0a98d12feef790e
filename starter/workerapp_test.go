package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/vigilops/vigil/internal/workerapp"
)

// runWorkerApp runs `worker ARGS` in this process until the test ends
// (then it waits up to 60 s for a clean stop) and returns its endpoints
// once ready, within ready. The worker's output is logged when the test
// fails.
func runWorkerApp(t *testing.T, args []string, ready time.Duration) workerapp.Endpoints {
	t.Helper()
	cfg, err := workerapp.ParseFlags(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	readyCh := make(chan workerapp.Endpoints, 1)
	done := make(chan error, 1)
	go func() {
		done <- workerapp.Run(ctx, cfg, logs, logs, func(ep workerapp.Endpoints) { readyCh <- ep })
	}()
	t.Cleanup(func() {
		stop()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("worker: %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Error("worker did not stop within 60s")
		}
		if t.Failed() {
			t.Logf("worker output:\n%s", logs.String())
		}
	})
	select {
	case ep := <-readyCh:
		return ep
	case err := <-done:
		t.Fatalf("worker ended before it was ready: %v\n%s", err, logs.String())
	case <-time.After(ready):
		t.Fatalf("worker not ready within %s:\n%s", ready, logs.String())
	}
	return workerapp.Endpoints{}
}
