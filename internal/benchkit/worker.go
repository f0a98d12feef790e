package benchkit

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/router"
	"github.com/vigilops/vigil/internal/setup"
	"github.com/vigilops/vigil/internal/workerapp"
	"github.com/vigilops/vigil/workflows"
)

// WorkerOptions configure an in-process worker.
type WorkerOptions struct {
	// Getenv resolves secrets named in inputs (nil: no variables).
	Getenv func(string) string
	// Logger is the worker's and router's logger (nil discards).
	Logger *slog.Logger
	// Router runs the notification router on the default queue (created).
	Router bool
	// Override registers extra or replacement workflows and activities on
	// the main task queue's worker after the real ones (replacements need
	// DisableAlreadyRegisteredCheck).
	Override func(worker.Registry)
}

// StartWorker runs a worker with every flow registered on
// workflows.TaskQueue and this host's task queue, as the vigil worker does.
// The returned function stops it.
func StartWorker(ctx context.Context, c client.Client, clients *awsconf.Clients, opts WorkerOptions) (stop func(), err error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Getenv == nil {
		opts.Getenv = func(string) string { return "" }
	}
	deps := &workerapp.Deps{Temporal: c, AWS: clients, Logger: opts.Logger, Getenv: opts.Getenv, Host: activities.DefaultHostName()}
	rt := router.New(clients.SQS, router.Options{Logger: opts.Logger, WaitTimeSeconds: 1})
	w := worker.New(c, workflows.TaskQueue, workerapp.WorkerOptions(deps))
	workerapp.RegisterFlows(w, rt, deps)
	hw := workerapp.NewHostWorker(c, workflows.TaskQueue, deps)
	if opts.Override != nil {
		opts.Override(w)
	}
	if err := w.Start(); err != nil {
		return nil, err
	}
	if err := hw.Start(); err != nil {
		w.Stop()
		return nil, err
	}
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	if opts.Router {
		q, err := clients.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(setup.DefaultQueue)})
		if err != nil {
			cancel()
			hw.Stop()
			w.Stop()
			return nil, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := rt.Run(rctx, aws.ToString(q.QueueUrl)); err != nil && !errors.Is(err, context.Canceled) {
				opts.Logger.Error("router stopped", "error", err)
			}
		}()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			wg.Wait()
			hw.Stop()
			w.Stop()
		})
	}, nil
}
