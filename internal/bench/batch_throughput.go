package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/benchkit"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

func init() { register(batchThroughput{}) }

// batchThroughput: no-op batch jobs per second against bare one-activity
// workflows, 8 in flight.
type batchThroughput struct{}

func (batchThroughput) Name() string  { return "batch-throughput" }
func (batchThroughput) Title() string { return "Batch jobs per second" }
func (batchThroughput) Describe() string {
	return "No-op batch jobs (BatchJob workflow, s3-put kind with the activity replaced by a no-op) started and awaited " +
		"8 at a time, per second, against bare workflows running one no-op activity on the same worker. " +
		"300 jobs of each in all rounds (quick: 20); one rate per round."
}

func (batchThroughput) Run(env *Env) ([]Measure, error) {
	rec := newRecorder()
	_, clients, err := env.Cloud(localcloud.Options{})
	if err != nil {
		return nil, errorf("local cloud", err)
	}
	if err := env.Worker(clients, benchkit.WorkerOptions{Override: rec.register}); err != nil {
		return nil, errorf("worker", err)
	}
	n := env.share(env.pick(300, 20))
	job := workflows.BatchJobInput{Job: flowdata.BatchJob{Name: "noop", Kind: flowdata.JobKindS3Put, S3Put: &flowdata.S3PutJob{Bucket: "noop", Key: "k", Content: "x"}}}
	prefix := fmt.Sprintf("bench-batch-%d-%d", time.Now().UnixNano(), env.Round)
	base, err := rate(env.Ctx, n, func(ctx context.Context, i int) error {
		return runWorkflow(ctx, env, fmt.Sprintf("%s-bare-%d", prefix, i), bareWorkflowName)
	})
	if err != nil {
		return nil, errorf("bare workflows", err)
	}
	vig, err := rate(env.Ctx, n, func(ctx context.Context, i int) error {
		return runWorkflow(ctx, env, fmt.Sprintf("%s-vigil-%d", prefix, i), workflows.BatchJobName, job)
	})
	if err != nil {
		return nil, errorf("batch jobs", err)
	}
	return []Measure{{Name: "no-op jobs completed", Unit: "jobs/s", HigherIsBetter: true, Vigil: []float64{vig},
		BaselineName: "bare one-activity workflows", Baseline: []float64{base}, Goal: "≥ 60 % of the bare rate"}}, nil
}

// runWorkflow starts a workflow on vigil's task queue and waits for it.
func runWorkflow(ctx context.Context, env *Env, id, name string, args ...any) error {
	run, err := env.Server.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue}, name, args...)
	if err != nil {
		return err
	}
	return run.Get(ctx, nil)
}

// rate runs do n times, 8 at a time, and returns completions per second.
func rate(ctx context.Context, n int, do func(context.Context, int) error) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	start := time.Now()
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			if err := do(ctx, i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	if first != nil {
		return 0, first
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
