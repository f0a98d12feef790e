package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// BenchmarkS3SweepListing compares listing only incoming/ (what S3Sweep
// does) with listing the whole bucket (what the replaced sweeper did), with
// VIGIL_BENCH_INCOMING (2000) objects under incoming/ and
// VIGIL_BENCH_ARCHIVED (20000) under bak/. Objects are written straight
// into the emulator's store; listing goes through the real SDK client.
func BenchmarkS3SweepListing(b *testing.B) {
	incoming, archived := int(envInt("VIGIL_BENCH_INCOMING", 2000)), int(envInt("VIGIL_BENCH_ARCHIVED", 20000))
	cloud, clients := stacktest.Cloud(b, localcloud.Options{})
	if err := cloud.S3.CreateBucket("bench"); err != nil {
		b.Fatal(err)
	}
	put := func(key string) {
		if err := cloud.S3.PutObject("bench", key, strings.NewReader("x"), 1, nil); err != nil {
			b.Fatal(err)
		}
	}
	for i := range incoming {
		put(fmt.Sprintf("incoming/f-%07d", i))
	}
	for i := range archived {
		put(fmt.Sprintf("bak/incoming/f-%07d", i))
	}
	list := func(prefix string) (int, time.Duration) {
		start := time.Now()
		n := 0
		p := s3.NewListObjectsV2Paginator(clients.S3, &s3.ListObjectsV2Input{Bucket: aws.String("bench"), Prefix: aws.String(prefix)})
		for p.HasMorePages() {
			out, err := p.NextPage(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			n += len(out.Contents)
		}
		return n, time.Since(start)
	}
	b.ResetTimer()
	var tPrefix, tAll time.Duration
	for range b.N {
		n, d := list("incoming/")
		if n != incoming {
			b.Fatalf("listed %d", n)
		}
		tPrefix += d
		n, d = list("")
		if n != incoming+archived {
			b.Fatalf("listed %d", n)
		}
		tAll += d
	}
	b.ReportMetric(float64(tPrefix.Milliseconds())/float64(b.N), "ms/prefix-listing")
	b.ReportMetric(float64(tAll.Milliseconds())/float64(b.N), "ms/whole-bucket-listing")
}

// bareWorkflow is one activity, the baseline of BenchmarkS3ObjectThroughput.
func bareWorkflow(ctx workflow.Context, key string) error {
	ctx = workflow.WithActivityOptions(ctx, workflows.ShortCallOptions())
	return workflow.ExecuteActivity(ctx, "BenchNoop", key).Get(ctx, nil)
}

// BenchmarkS3ObjectThroughput processes VIGIL_BENCH_OBJECTS (200) objects
// with the none processor (check, archive: copy, verify, delete), started
// the way a sweep starts them, and runs as many bare one-activity
// workflows on the same server, reporting objects/s, the ratio, and the
// process's peak RSS (server, emulators and worker together).
func BenchmarkS3ObjectThroughput(b *testing.B) {
	n := int(envInt("VIGIL_BENCH_OBJECTS", 200))
	ts := testenv.NewTemporalB(b)
	cloud, clients := stacktest.Cloud(b, localcloud.Options{})
	w := stacktest.StartWorker(b, ts, clients, os.Getenv)
	w.Worker.RegisterWorkflowWithOptions(bareWorkflow, workflow.RegisterOptions{Name: "BenchBare"})
	w.Worker.RegisterActivityWithOptions(func(context.Context, string) error { return nil }, activity.RegisterOptions{Name: "BenchNoop"})
	c := testenv.NewClient(b, ts)
	ctx := context.Background()
	if err := cloud.S3.CreateBucket("bench"); err != nil {
		b.Fatal(err)
	}
	p := flowdata.Pipeline{Name: "bench", Processor: flowdata.Processor{Kind: flowdata.ProcessorNone}}
	starter := activities.TemporalStarter{Client: c}
	b.ResetTimer()
	var objRate, bareRate float64
	for it := range b.N {
		var refs []flowdata.S3ObjectRef
		for i := range n {
			key := fmt.Sprintf("incoming/%d/f-%05d", it, i)
			out, err := clients.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String(key), Body: strings.NewReader(key)})
			if err != nil {
				b.Fatal(err)
			}
			refs = append(refs, flowdata.S3ObjectRef{Bucket: "bench", Key: key, ETag: strings.Trim(aws.ToString(out.ETag), `"`)})
		}
		objRate += rate(b, n, func(i int) (client.WorkflowRun, error) {
			in := flowdata.S3ObjectInput{Object: refs[i], Pipeline: p, Source: flowdata.SourceSweep}
			if _, err := starter.StartObject(ctx, workflows.S3ObjectName, workflows.TaskQueue, in); err != nil {
				return nil, err
			}
			return c.GetWorkflow(ctx, flowdata.S3ObjectWorkflowID(refs[i].Bucket, refs[i].Key, refs[i].ETag), ""), nil
		})
		bareRate += rate(b, n, func(i int) (client.WorkflowRun, error) {
			return c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bare-%d-%d", it, i), TaskQueue: workflows.TaskQueue}, "BenchBare", "k")
		})
	}
	b.ReportMetric(objRate/float64(b.N), "objects/s")
	b.ReportMetric(bareRate/float64(b.N), "bare-workflows/s")
	b.ReportMetric(objRate/bareRate, "ratio")
	b.ReportMetric(float64(peakRSS())/(1<<20), "peak-RSS-MiB")
}

// rate starts n runs (8 at a time) and waits for them all; it returns
// runs per second.
func rate(b *testing.B, n int, start func(i int) (client.WorkflowRun, error)) float64 {
	t0 := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	errs := make(chan error, n)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			run, err := start(i)
			if err == nil {
				err = run.Get(context.Background(), nil)
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return float64(n) / time.Since(t0).Seconds()
}

// peakRSS is the process's VmHWM in bytes (Linux), 0 elsewhere.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:")), "%d", &kb)
			return kb << 10
		}
	}
	return 0
}
