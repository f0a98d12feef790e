package main

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/benchkit"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

func init() { register(s3Reprocess{}) }

// s3Reprocess: the sweep's listing against the whole-bucket listing of the
// replaced sweeper, S3Object throughput with the none processor against
// bare workflows, and the worker's peak RSS during a sweep.
type s3Reprocess struct{}

func (s3Reprocess) Name() string  { return "s3-reprocess" }
func (s3Reprocess) Title() string { return "S3 reprocessing: sweep listing, throughput, worker RSS" }
func (s3Reprocess) Describe() string {
	return "An in-memory local cloud seeded straight into s3lite's store (Seed: no HTTP, no events; a million PutObject " +
		"calls would take minutes) with 100k objects under incoming/ and 1M under bak/ (quick: 2k and 20k). " +
		"Listing: ListObjectsV2 pages of 1,000 through the SDK, of incoming/ (what S3Sweep lists) against the same " +
		"listing in a bucket whose bak/ is empty (equal means independent of bak/) and against the whole bucket (what " +
		"the replaced sweeper listed). Throughput (measured first, before seeding): 600 objects in all rounds (quick: 20), each taken through the S3Object workflow with " +
		"the none processor (check, archive copy, verify, conditional delete), started as a sweep starts them, 8 at a " +
		"time, on an in-process worker, against bare one-activity workflows on the same worker. RSS: an S3Sweep of the " +
		"100k incoming/ objects (quick: 200) by a separately started lean worker process (`-tags nodev`); the runs it " +
		"starts go to a task queue nobody polls, so the figure is the sweep's own (listing, " +
		"heartbeats, 100k starts); VmHWM after the sweep."
}

func (s3Reprocess) Run(env *Env) ([]Measure, error) {
	incoming, archived := env.pick(100_000, 2_000), env.pick(1_000_000, 20_000)
	cloud, err := localcloud.Start(localcloud.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		return nil, errorf("local cloud", err)
	}
	env.Defer(func() { _ = cloud.Close() })
	clients := awsconf.NewClients(awsconf.Local(cloud.URL()))
	// Throughput first, while the harness's heap is small (the seeded
	// million objects would slow the in-process server's GC for both sides).
	objRate, bareRate, err := s3Throughput(env, cloud, clients)
	if err != nil {
		return nil, err
	}
	keys := func(prefix string, n int) iter.Seq[string] {
		return func(yield func(string) bool) {
			for i := range n {
				if !yield(fmt.Sprintf("%sreports/2026/f-%07d.csv", prefix, i)) {
					return
				}
			}
		}
	}
	seedStart := time.Now()
	for _, b := range []struct {
		bucket    string
		in, inBak int
	}{{"bench-sweep", incoming, archived}, {"bench-sweep-nobak", incoming, 0}} {
		if err := cloud.S3.CreateBucket(b.bucket); err != nil {
			return nil, errorf("bucket", err)
		}
		if _, err := cloud.S3.Seed(b.bucket, keys("incoming/", b.in), []byte("x")); err != nil {
			return nil, errorf("seed incoming/", err)
		}
		if _, err := cloud.S3.Seed(b.bucket, keys("bak/incoming/", b.inBak), []byte("x")); err != nil {
			return nil, errorf("seed bak/", err)
		}
	}
	env.Log.Info("s3-reprocess: seeded", "objects", 2*incoming+archived, "took", time.Since(seedStart).Round(time.Millisecond))

	list := func(bucket, prefix string, want int) (float64, error) {
		start := time.Now()
		n := 0
		p := s3.NewListObjectsV2Paginator(clients.S3, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
		for p.HasMorePages() {
			out, err := p.NextPage(env.Ctx)
			if err != nil {
				return 0, err
			}
			n += len(out.Contents)
		}
		if n != want {
			return 0, fmt.Errorf("listed %d objects of s3://%s/%s, want %d", n, bucket, prefix, want)
		}
		return ms(time.Since(start)), nil
	}
	sweepList, err := list("bench-sweep", "incoming/", incoming)
	if err != nil {
		return nil, errorf("listing incoming/", err)
	}
	noBak, err := list("bench-sweep-nobak", "incoming/", incoming)
	if err != nil {
		return nil, errorf("listing incoming/ without bak/", err)
	}
	whole, err := list("bench-sweep", "", incoming+archived)
	if err != nil {
		return nil, errorf("listing the whole bucket", err)
	}
	env.Log.Info("s3-reprocess: listed", "incomingMs", sweepList, "incomingNoBakMs", noBak, "wholeBucketMs", whole,
		"objectsPerSec", objRate, "bareWorkflowsPerSec", bareRate)

	hwm, err := s3SweepRSS(env, cloud, env.pick(incoming, 200))
	if err != nil {
		return nil, err
	}
	return []Measure{
		{Name: fmt.Sprintf("list incoming/ (%d objects) with %d under bak/", incoming, archived), Unit: "ms",
			Vigil: []float64{sweepList}, BaselineName: "same listing, bak/ empty", Baseline: []float64{noBak}, Goal: "independent of bak/ (≈ 100 %)"},
		{Name: "list incoming/ vs the whole bucket", Unit: "ms",
			Vigil: []float64{sweepList}, BaselineName: "whole-bucket listing (replaced sweeper)", Baseline: []float64{whole}},
		{Name: "objects processed, none processor", Unit: "objects/s", HigherIsBetter: true, Vigil: []float64{objRate},
			BaselineName: "bare one-activity workflows", Baseline: []float64{bareRate}, Goal: "≥ 60 % of the bare rate"},
		{Name: fmt.Sprintf("worker peak RSS (VmHWM) during a %d-object sweep, lean build", env.pick(incoming, 200)), Unit: "MiB",
			Vigil: []float64{float64(hwm) / 1024}},
	}, nil
}

// s3Throughput runs objects through S3Object (none processor) and bare
// workflows on an in-process worker, stopped before returning.
func s3Throughput(env *Env, cloud *localcloud.Cloud, clients *awsconf.Clients) (objRate, bareRate float64, err error) {
	rec := newRecorder()
	stop, err := benchkit.StartWorker(env.Ctx, env.Server.Client, clients, benchkit.WorkerOptions{Override: rec.register})
	if err != nil {
		return 0, 0, errorf("worker", err)
	}
	defer stop()
	n := env.share(env.pick(600, 20))
	bucket := fmt.Sprintf("bench-through-%d", env.Round)
	if err := cloud.S3.CreateBucket(bucket); err != nil {
		return 0, 0, errorf("bucket", err)
	}
	var refs []flowdata.S3ObjectRef
	for i := range n {
		key := fmt.Sprintf("incoming/t-%06d", i)
		out, err := clients.S3.PutObject(env.Ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(key)})
		if err != nil {
			return 0, 0, errorf("put", err)
		}
		refs = append(refs, flowdata.S3ObjectRef{Bucket: bucket, Key: key, ETag: strings.Trim(aws.ToString(out.ETag), `"`)})
	}
	p := flowdata.Pipeline{Name: "bench", Processor: flowdata.Processor{Kind: flowdata.ProcessorNone}}
	starter := activities.TemporalStarter{Client: env.Server.Client}
	prefix := fmt.Sprintf("bench-s3-%d-%d", time.Now().UnixNano(), env.Round)
	bareRate, err = rate(env.Ctx, n, func(ctx context.Context, i int) error {
		return runWorkflow(ctx, env, fmt.Sprintf("%s-bare-%d", prefix, i), bareWorkflowName)
	})
	if err != nil {
		return 0, 0, errorf("bare workflows", err)
	}
	objRate, err = rate(env.Ctx, n, func(ctx context.Context, i int) error {
		in := flowdata.S3ObjectInput{Object: refs[i], Pipeline: p, Source: flowdata.SourceSweep}
		if _, err := starter.StartObject(ctx, workflows.S3ObjectName, workflows.TaskQueue, in); err != nil {
			return err
		}
		var res workflows.S3ObjectResult
		if err := env.Server.Client.GetWorkflow(ctx, flowdata.S3ObjectWorkflowID(refs[i].Bucket, refs[i].Key, refs[i].ETag), "").Get(ctx, &res); err != nil {
			return err
		}
		if res.Outcome != workflows.OutcomeProcessed {
			return fmt.Errorf("%s: outcome %q", refs[i].Key, res.Outcome)
		}
		return nil
	})
	if err != nil {
		return 0, 0, errorf("S3Object runs", err)
	}
	return objRate, bareRate, nil
}

// s3SweepRSS sweeps incoming/ of bench-sweep (n objects) with a separate
// lean worker process and returns its VmHWM in KiB. The runs the sweep
// starts go to a task queue nobody polls: executing them would not touch
// the worker process, and would make the embedded server's SQLite the
// bottleneck of the run (100k executions take most of an hour there).
func s3SweepRSS(env *Env, cloud *localcloud.Cloud, n int) (int64, error) {
	parkQueue := fmt.Sprintf("bench-s3-parked-%d-%d", time.Now().UnixNano(), env.Round)
	bucket := "bench-sweep"
	if n != env.pick(100_000, 2_000) {
		// A smaller sweep (quick mode) lists a bucket of its own.
		bucket = fmt.Sprintf("bench-sweep-rss-%d", env.Round)
		if err := cloud.S3.CreateBucket(bucket); err != nil {
			return 0, errorf("bucket", err)
		}
		if _, err := cloud.S3.Seed(bucket, func(yield func(string) bool) {
			for i := range n {
				if !yield(fmt.Sprintf("incoming/r-%06d", i)) {
					return
				}
			}
		}, []byte("x")); err != nil {
			return 0, errorf("seed", err)
		}
	}
	wp, err := env.WorkerProcess("nodev", cloud.URL(), nil)
	if err != nil {
		return 0, errorf("worker process", err)
	}
	zero := flowdata.Duration(0)
	run, err := env.Server.Client.ExecuteWorkflow(env.Ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bench-s3-sweep-%d-%d", time.Now().UnixNano(), env.Round),
		TaskQueue: workflows.TaskQueue}, workflows.S3SweepName, workflows.S3SweepInput{Bucket: bucket, Prefix: "incoming/", OlderThan: &zero,
		Pipeline: flowdata.Pipeline{Name: "bench", Processor: flowdata.Processor{Kind: flowdata.ProcessorNone}}, RunTaskQueue: parkQueue})
	if err != nil {
		return 0, errorf("start sweep", err)
	}
	// A 100k-run sweep loads the embedded server for most of half an
	// hour; a long poll that times out there is waited out, not fatal.
	var res workflows.S3SweepResult
	for {
		err := run.Get(env.Ctx, &res)
		var closed *temporal.WorkflowExecutionError
		if err == nil {
			break
		}
		if errors.As(err, &closed) || env.Ctx.Err() != nil {
			return 0, errorf("sweep", err)
		}
		env.Log.Warn("s3-reprocess: waiting for the sweep again", "error", err)
		select {
		case <-env.Ctx.Done():
			return 0, errorf("sweep", env.Ctx.Err())
		case <-time.After(time.Second):
		}
	}
	if res.Found != int64(n) {
		return 0, fmt.Errorf("sweep found %d stale objects, want %d", res.Found, n)
	}
	return wp.StatusKiB("VmHWM")
}
