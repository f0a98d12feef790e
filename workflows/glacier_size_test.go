package workflows

import (
	"context"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.temporal.io/server/temporaltest"
	"google.golang.org/protobuf/proto"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// Glacier's largest archive, 40 TB (as AWS documents it: 40 × 10^12 bytes).
const glacierMaxArchive int64 = 40e12

// History budgets the test holds a retrieval to: Temporal warns at 10,240
// events per history and refuses payloads over 2 MiB; stay well inside.
const (
	maxEventsPerHistory = 10240
	maxEventBytes       = 1 << 20
)

// TestGlacierRetrievalOfTheLargestArchive retrieves a 40 TB archive to S3
// on a real (embedded) Temporal server with stub activities: the parts
// stay within S3's 10,000, every history (the retrieval's and its batch
// children's) within the event budget, and no event (hence no payload)
// above 1 MiB.
func TestGlacierRetrievalOfTheLargestArchive(t *testing.T) {
	if os.Getenv("VIGIL_LONG_TESTS") == "" {
		t.Skip("runs 9,314 activities on an embedded server (3+ minutes on 2 busy cores); set VIGIL_LONG_TESTS=1")
	}
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	registerSearchAttributes(t, ts)
	c := ts.GetDefaultClient()
	const tq = "big"
	var ranges atomic.Int64
	var finishParts atomic.Int64
	const leaf = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
	w := ts.NewWorker(tq, func(r worker.Registry) {
		r.RegisterWorkflowWithOptions(GlacierRetrieveWorkflow, workflow.RegisterOptions{Name: GlacierRetrieveName})
		r.RegisterWorkflowWithOptions(GlacierBatchWorkflow, workflow.RegisterOptions{Name: GlacierBatchName})
		reg := func(name string, fn any) { r.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name}) }
		reg(activities.InitiateJobName, func(context.Context, activities.InitiateJobInput) (flowdata.GlacierJobState, error) {
			return flowdata.GlacierJobState{JobID: "job-1", StatusCode: "Succeeded", Completed: true, OutputSize: glacierMaxArchive,
				TreeHash: "whole", CompletionDate: time.Now().UTC().Format(time.RFC3339)}, nil
		})
		reg(activities.PrepareDestinationName, func(_ context.Context, in activities.PrepareInput) (activities.Prepared, error) {
			dest, err := location.Parse(in.Dest)
			return activities.Prepared{Dest: dest, Size: in.Size, UploadID: "upload-1"}, err
		})
		reg(activities.DownloadRangeName, func(_ context.Context, in activities.DownloadRangeInput) (activities.RangePart, error) {
			ranges.Add(1)
			return activities.RangePart{Index: in.Index, Bytes: in.Range.Len(), TreeHash: leaf, ETag: `"0123456789abcdef0123456789abcdef"`}, nil
		})
		reg(activities.FinishDestinationName, func(_ context.Context, in activities.FinishInput) (activities.FinishResult, error) {
			var n, bytes int64
			for _, b := range in.Batches {
				n += int64(len(b.ETags))
				bytes += b.Bytes
			}
			finishParts.Store(n)
			return activities.FinishResult{Location: in.Prepared.Dest.String(), Bytes: bytes, TreeHash: in.TreeHash}, nil
		})
	})
	defer w.Stop()
	ctx := context.Background()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: GlacierWorkflowID("v", "huge"), TaskQueue: tq}, GlacierRetrieveName,
		GlacierRetrieveInput{Vault: "v", ArchiveID: "huge", Destination: "s3://out/huge.bin", Parallel: 64})
	if err != nil {
		t.Fatal(err)
	}
	var res GlacierRetrieveResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	parts := finishParts.Load()
	if res.Bytes != glacierMaxArchive || parts != ranges.Load() || parts > s3MaxParts || parts < 9000 {
		t.Fatalf("result %+v; %d parts completed, %d ranges downloaded; want all bytes in at most %d parts", res, parts, ranges.Load(), s3MaxParts)
	}
	t.Logf("%d parts of %d MiB", parts, (glacierMaxArchive/parts)>>20)

	// Every history of the retrieval: the run and its batch children.
	list, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: ts.GetDefaultNamespace(), PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	histories := 0
	for _, e := range list.Executions {
		id := e.GetExecution().GetWorkflowId()
		if !strings.HasPrefix(id, GlacierWorkflowID("v", "huge")) {
			continue
		}
		histories++
		events, biggest := 0, 0
		iter := c.GetWorkflowHistory(ctx, id, e.GetExecution().GetRunId(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for iter.HasNext() {
			ev, err := iter.Next()
			if err != nil {
				t.Fatal(err)
			}
			events++
			biggest = max(biggest, proto.Size(ev))
		}
		t.Logf("%s: %d events, largest %d bytes", id, events, biggest)
		if events > maxEventsPerHistory || biggest > maxEventBytes {
			t.Errorf("%s: %d events (budget %d), largest event %d bytes (budget %d)", id, events, maxEventsPerHistory, biggest, maxEventBytes)
		}
	}
	if want := 1 + (int(parts)+glacierBatchRanges-1)/glacierBatchRanges; histories != want {
		t.Errorf("%d histories, want the run and its %d batches", histories, want-1)
	}
}
