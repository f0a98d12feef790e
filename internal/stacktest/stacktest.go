// Package stacktest starts vigil's real parts for integration tests: the
// local cloud on a free port and a worker with every flow registered and
// the notification router running, against a temporaltest server.
package stacktest

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/server/temporaltest"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/router"
	"github.com/vigilops/vigil/internal/secretenv"
	"github.com/vigilops/vigil/internal/setup"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/internal/workerapp"
	"github.com/vigilops/vigil/workflows"
)

// Cloud starts the local cloud on 127.0.0.1 (free port) with its state in
// a temporary directory, and returns it with SDK clients pointed at it.
func Cloud(t testing.TB, opts localcloud.Options) (*localcloud.Cloud, *awsconf.Clients) {
	t.Helper()
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	if opts.Logger == nil {
		opts.Logger = testenv.TestLogger(t, slog.LevelInfo)
	}
	c, err := localcloud.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, awsconf.NewClients(awsconf.Local(c.URL()))
}

// Worker is a running vigil worker: every flow registered, the router
// consuming the notification queue.
type Worker struct {
	Worker   worker.Worker
	Router   *router.Router
	QueueURL string
	stop     func()
}

// Stop stops the router and the worker (idempotent), like killing the
// worker process: running activities are cancelled and retried elsewhere.
func (w *Worker) Stop() { w.stop() }

// StartWorker runs a worker against ts with AWS clients on the cloud and
// the router on the default notification queue (created if missing); its
// host is this machine's (activities.DefaultHostName).
func StartWorker(t testing.TB, ts *temporaltest.TestServer, clients *awsconf.Clients, getenv func(string) string) *Worker {
	t.Helper()
	return StartWorkerOnHost(t, ts, clients, getenv, activities.DefaultHostName())
}

// StartWorkerOnHost is StartWorker for a worker that calls its host host:
// it also polls that host's task queue, as `worker --host` does. Several
// of them on one server are several workers sharing the task queue.
func StartWorkerOnHost(t testing.TB, ts *temporaltest.TestServer, clients *awsconf.Clients, getenv func(string) string, host string) *Worker {
	t.Helper()
	ctx := context.Background()
	q, err := clients.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(setup.DefaultQueue)})
	if err != nil {
		t.Fatal(err)
	}
	c := testenv.NewClient(t, ts)
	// Runs may read what a --dev worker allows: the default prefix and
	// the demos' CACHE_PASSWORD.
	deps := &workerapp.Deps{Temporal: c, AWS: clients, Logger: testenv.TestLogger(t, slog.LevelInfo), Getenv: getenv, Host: host,
		SecretEnv: secretenv.Policy{Names: []string{workerapp.DevCachePasswordEnv}}}
	rt := router.New(clients.SQS, router.Options{Logger: deps.Logger, WaitTimeSeconds: 1})
	w := worker.New(c, workflows.TaskQueue, workerapp.WorkerOptions(deps))
	workerapp.RegisterFlows(w, rt, deps)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	hw := workerapp.NewHostWorker(c, workflows.TaskQueue, deps)
	if err := hw.Start(); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := rt.Run(rctx, aws.ToString(q.QueueUrl)); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("router: %v", err)
		}
	}()
	var once sync.Once
	sw := &Worker{Worker: w, Router: rt, QueueURL: aws.ToString(q.QueueUrl), stop: func() {
		once.Do(func() {
			cancel()
			wg.Wait()
			hw.Stop()
			w.Stop()
		})
	}}
	t.Cleanup(sw.Stop)
	return sw
}
