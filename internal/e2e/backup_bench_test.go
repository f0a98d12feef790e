package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/benchkit"
	"github.com/vigilops/vigil/internal/detdata"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// BenchmarkBackupRestore backs up and restores VIGIL_BENCH_MIB (256) MiB
// of deterministic data served over http (so no disk is in the source's
// way), against a raw transfer of the same bytes with the same SDK in the
// same run: a manager.Uploader upload (same part size and concurrency) of
// the same stream, and a GetObject streamed to the same kind of http sink
// the restore PUTs to. The workflows run on a separate worker process
// (VIGIL_BENCH_TAGS=nodev: the lean build) whose peak RSS is reported.
// Each figure is the median over the iterations.
func BenchmarkBackupRestore(b *testing.B) {
	size := envInt("VIGIL_BENCH_MIB", 256) << 20
	ts := testenv.NewTemporalB(b)
	cloud, clients := stacktest.Cloud(b, localcloud.Options{})
	ctx := context.Background()
	if _, err := clients.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil {
		b.Fatal(err)
	}
	src := benchkit.DataServer(9, size)
	defer src.Close()
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	defer sink.Close()
	worker := startWorkerProcess(b, ts.GetFrontendHostPort(), ts.GetDefaultNamespace(), cloud.URL())
	c := testenv.NewClient(b, ts)
	pctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := benchkit.WaitForPoller(pctx, c, worker.Cmd.Process.Pid); err != nil {
		b.Fatal(err)
	}
	idleRSS := procStatusKiB(b, worker.Cmd.Process.Pid, "VmRSS")
	var rawUp, upload, backup, rawDown, restore []time.Duration
	i := 0
	b.ResetTimer()
	for b.Loop() {
		i++
		d, err := benchkit.RawS3Upload(ctx, clients.S3, "bench", fmt.Sprintf("raw/%d.bin", i), detdata.New(9, size))
		if err != nil {
			b.Fatal(err)
		}
		rawUp = append(rawUp, d)
		start := time.Now()
		var res flowdata.BackupResult
		runFlow(b, c, workflows.BackupName, flowdata.BackupInput{Name: fmt.Sprintf("bench%d", i), Source: src.URL, Target: "s3://bench/"}, &res)
		backup = append(backup, time.Since(start))
		upload = append(upload, time.Duration(float64(res.Bytes)/res.BytesPerSecond*float64(time.Second)))
		if res.Bytes != size {
			b.Fatalf("backed up %d bytes, want %d", res.Bytes, size)
		}
		rawDown = append(rawDown, rawGet(b, clients.S3, "bench", res.Key, sink.URL))
		start = time.Now()
		var rres flowdata.RestoreResult
		runFlow(b, c, workflows.RestoreName, flowdata.RestoreInput{From: "s3://bench/" + res.Key, To: sink.URL}, &rres)
		restore = append(restore, time.Since(start))
	}
	mib := float64(size) / (1 << 20)
	rate := func(d []time.Duration) float64 { return mib / percentile(d, 0.5).Seconds() }
	b.ReportMetric(rate(rawUp), "raw-upload-MiB/s")
	b.ReportMetric(rate(upload), "vigil-upload-MiB/s")
	b.ReportMetric(rate(backup), "vigil-backup-run-MiB/s")
	b.ReportMetric(100*rate(upload)/rate(rawUp), "upload/raw-%")
	b.ReportMetric(100*rate(backup)/rate(rawUp), "backup-run/raw-%")
	b.ReportMetric(rate(rawDown), "raw-download-MiB/s")
	b.ReportMetric(rate(restore), "vigil-restore-run-MiB/s")
	b.ReportMetric(100*rate(restore)/rate(rawDown), "restore-run/raw-%")
	b.ReportMetric(float64(idleRSS)/1024, "worker-idle-RSS-MiB")
	b.ReportMetric(float64(procStatusKiB(b, worker.Cmd.Process.Pid, "VmHWM"))/1024, "worker-peak-RSS-MiB")
}

// runFlow runs a workflow to its end.
func runFlow(b *testing.B, c client.Client, name string, in, out any) {
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: fmt.Sprintf("bench-%s-%d", name, time.Now().UnixNano()),
		TaskQueue: workflows.TaskQueue}, name, in)
	if err != nil {
		b.Fatal(err)
	}
	if err := run.Get(context.Background(), out); err != nil {
		b.Fatal(err)
	}
}

// rawGet streams the object into a PUT to the sink.
func rawGet(b *testing.B, api *s3.Client, bucket, key, sink string) time.Duration {
	start := time.Now()
	out, err := api.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		b.Fatal(err)
	}
	defer out.Body.Close()
	req, _ := http.NewRequest(http.MethodPut, sink, out.Body)
	req.ContentLength = aws.ToInt64(out.ContentLength)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode/100 != 2 {
		b.Fatalf("PUT to the sink: %v %v", resp, err)
	}
	resp.Body.Close()
	return time.Since(start)
}
