package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// TestS3SweepWorkerProcessKilled is R1 of issue 13 for S3 reprocessing: a
// sweep of 30 objects (pages of 10) runs in a separately started worker
// process, which is SIGKILLed while the first object's archive copy is in
// flight (the emulator holds that CopyObject) and the sweep is between
// pages. A new process finishes both: the sweep resumes from its
// checkpoint and counts every object once as started (a missed event),
// and every object ends up in bak/ exactly once with incoming/ empty. The
// killed activities would wait for their heartbeat timeouts (about a
// minute); the test cuts those to seconds (expireKilledAttempts), so it
// runs in CI.
func TestS3SweepWorkerProcessKilled(t *testing.T) {
	ts := testenv.NewTemporal(t)
	// The worker dies with the first archive copy in flight.
	hold := holdNth(1, func(r *http.Request) bool {
		return r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "" && strings.HasPrefix(r.URL.Path, "/kill-inbox/bak/")
	})
	cloud, awsc := stacktest.Cloud(t, localcloud.Options{Wrap: hold.Wrap})
	c := testenv.NewClient(t, ts)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	const bucket, n = "kill-inbox", 30
	if err := cloud.S3.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range n {
		key := fmt.Sprintf("incoming/k%02d", i)
		want = append(want, key)
		if _, err := awsc.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
			Body: strings.NewReader("content of " + key)}); err != nil {
			t.Fatal(err)
		}
	}
	startProc := workerProcesses(ctx, t, ts, c, cloud.URL(), nil)
	first := startProc()
	zero := flowdata.Duration(0)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "s3sweep/kill", TaskQueue: workflows.TaskQueue}, workflows.S3SweepName,
		workflows.S3SweepInput{Bucket: bucket, Prefix: "incoming/", OlderThan: &zero, PageSize: 10, PagesPerActivity: 1,
			Pipeline: flowdata.Pipeline{Name: "kill", Processor: flowdata.Processor{Kind: flowdata.ProcessorNone}}})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-hold.reached:
	case <-ctx.Done():
		t.Fatal("no archive copy was ever attempted")
	}
	first.Kill()
	restore := expireKilledAttempts(ctx, t, c, ts.GetDefaultNamespace())
	startProc()
	restore()
	var res workflows.S3SweepResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("sweep after the kill: %v", err)
	}
	// No event announced any object: the sweep started all of them, the
	// ones the killed attempt started included (their memo names it).
	if res.Found != n || res.Started != n || res.MissedEvents != n {
		t.Errorf("sweep counts %+v (missed events %d), want %d found and started", res.S3SweepCounts, res.MissedEvents, n)
	}
	list := func(prefix string) []string {
		var keys []string
		p := s3.NewListObjectsV2Paginator(awsc.S3, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range out.Contents {
				keys = append(keys, aws.ToString(o.Key))
			}
		}
		return keys
	}
	var archived []string
	testenv.Eventually(t, 4*time.Minute, 200*time.Millisecond, "every object archived", func() bool {
		archived = list("bak/")
		return len(archived) >= n && len(list("incoming/")) == 0
	})
	for i, k := range want {
		want[i] = "bak/" + k
	}
	if !slices.Equal(archived, want) {
		t.Errorf("bak/ holds %v, want each object exactly once: %v", archived, want)
	}
}
