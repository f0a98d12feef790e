package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/benchkit"
	"github.com/vigilops/vigil/internal/router"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/internal/workerapp"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// debugClient, set by the lag benchmark, lets VIGIL_LAG_DEBUG break the
// lag down.
var debugClient client.Client

// lagRecorder replaces the s3-put job activity: it records, per firing,
// how long after the schedule's nominal time the job activity started.
type lagRecorder struct {
	mu   sync.Mutex
	lags []time.Duration
	seen chan struct{}
}

func (r *lagRecorder) put(ctx context.Context, in activities.S3PutJobInput) (activities.JobOutput, error) {
	lag := time.Since(in.Ctx.ScheduledTime)
	if os.Getenv("VIGIL_LAG_DEBUG") != "" {
		info := activity.GetInfo(ctx)
		if debugClient != nil {
			if d, err := debugClient.DescribeWorkflowExecution(ctx, info.WorkflowExecution.ID, ""); err == nil {
				fmt.Printf("nominal→workflow start %v; ", d.WorkflowExecutionInfo.StartTime.AsTime().Sub(in.Ctx.ScheduledTime))
			}
		}
		fmt.Printf("nominal→scheduled %v, scheduled→started %v, started→now %v\n", info.ScheduledTime.Sub(in.Ctx.ScheduledTime), info.StartedTime.Sub(info.ScheduledTime), time.Since(info.StartedTime))
	}
	if in.Ctx.ScheduleID == "" {
		lag = -1 // a one-off run: not a schedule firing
	}
	r.mu.Lock()
	if lag >= 0 {
		r.lags = append(r.lags, lag)
	}
	r.mu.Unlock()
	select {
	case r.seen <- struct{}{}:
	default:
	}
	return activities.JobOutput{Summary: "recorded"}, nil
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(float64(len(s)-1)*p)]
}

// startBenchWorker runs the real registrations with the s3-put activity
// replaced by the recorder.
func startBenchWorker(b *testing.B, c client.Client, rec *lagRecorder) worker.Worker {
	w := worker.New(c, workflows.TaskQueue, worker.Options{})
	deps := &workerapp.Deps{Temporal: c, AWS: awsconf.NewClients(awsconf.Local("http://127.0.0.1:1")), Logger: slog.New(slog.DiscardHandler), Getenv: os.Getenv}
	workerapp.RegisterFlows(w, router.New(deps.AWS.SQS, router.Options{}), deps)
	w.RegisterActivityWithOptions(rec.put, activity.RegisterOptions{Name: "PutJobObject", DisableAlreadyRegisteredCheck: true})
	if err := w.Start(); err != nil {
		b.Fatal(err)
	}
	return w
}

// BenchmarkScheduleLag measures scheduled time → job activity start for an
// every-1s schedule of a batch job on the embedded server (VIGIL_FIRINGS
// firings, default 100). Run: go test ./internal/e2e -run XXX -bench ScheduleLag -benchtime 1x
func BenchmarkScheduleLag(b *testing.B) {
	firings := 100
	if v := os.Getenv("VIGIL_FIRINGS"); v != "" {
		fmt.Sscan(v, &firings)
	}
	c := benchClient(b)
	debugClient = c
	rec := &lagRecorder{seen: make(chan struct{}, 1)}
	w := startBenchWorker(b, c, rec)
	defer w.Stop()
	ctx := context.Background()
	job := workflows.BatchJobInput{Job: flowdata.BatchJob{Name: "lag", Kind: flowdata.JobKindS3Put, S3Put: &flowdata.S3PutJob{Bucket: "lag-bucket", Key: "k", Content: "x"}}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec.mu.Lock()
		rec.lags = nil
		rec.mu.Unlock()
		id := fmt.Sprintf("lag-%d", i)
		h, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{ID: id,
			Spec:   client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: time.Second}}},
			Action: &client.ScheduleWorkflowAction{ID: "batch/" + id, Workflow: workflows.BatchJobWorkflow, Args: []any{job}, TaskQueue: workflows.TaskQueue}})
		if err != nil {
			b.Fatal(err)
		}
		deadline := time.After(time.Duration(firings)*time.Second + time.Minute)
		for {
			rec.mu.Lock()
			n := len(rec.lags)
			rec.mu.Unlock()
			if n >= firings {
				break
			}
			select {
			case <-rec.seen:
			case <-deadline:
				b.Fatalf("only %d firings", n)
			}
		}
		_ = h.Delete(ctx)
		rec.mu.Lock()
		lags := rec.lags[:firings]
		rec.mu.Unlock()
		b.ReportMetric(float64(percentile(lags, 0.5).Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(percentile(lags, 0.99).Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(percentile(lags, 1).Microseconds())/1000, "max-ms")
	}
}

// BenchmarkBatchThroughput measures no-op batch jobs (s3-put recorded, no
// I/O) completed per second, 8 started at a time.
func BenchmarkBatchThroughput(b *testing.B) {
	c := benchClient(b)
	rec := &lagRecorder{seen: make(chan struct{}, 1)}
	w := startBenchWorker(b, c, rec)
	defer w.Stop()
	ctx := context.Background()
	job := workflows.BatchJobInput{Job: flowdata.BatchJob{Name: "noop", Kind: flowdata.JobKindS3Put, S3Put: &flowdata.S3PutJob{Bucket: "noop-bucket", Key: "k", Content: "x"}}}
	start := time.Now()
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("noop-%d", i), TaskQueue: workflows.TaskQueue}, workflows.BatchJobWorkflow, job)
			if err == nil {
				err = run.Get(ctx, nil)
			}
			if err != nil {
				b.Error(err)
			}
		}(i)
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "jobs/s")
}

// benchClient starts the server the benchmark runs on: the dev server
// (what `worker --dev` runs, in memory) by default, or temporaltest with
// VIGIL_BENCH_SERVER=temporaltest.
func benchClient(b *testing.B) client.Client {
	if os.Getenv("VIGIL_BENCH_SERVER") == "temporaltest" {
		return testenv.NewTemporalB(b).GetDefaultClient()
	}
	s, err := benchkit.StartServer(context.Background(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s.Client
}
