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
	"go.temporal.io/sdk/converter"
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

// TestChunkSizeFor: S3 destinations are cut into parts S3 accepts, sized
// from the output when no chunk size is given; a file keeps 64 MiB.
func TestChunkSizeFor(t *testing.T) {
	cases := []struct {
		dest        string
		size, chunk int64
		want        int64
		wantErr     string
	}{
		{dest: "file:///x", size: glacierMaxArchive, want: DefaultGlacierChunkSize},
		{dest: "file://h/x", size: 1, chunk: 1 << 20, want: 1 << 20},
		{dest: "s3://bkt/k", size: 16 << 20, want: 8 << 20},
		{dest: "s3://bkt/k", size: 100 << 30, want: 16 << 20},
		{dest: "s3://bkt/k", size: glacierMaxArchive, want: 4 << 30},
		{dest: "s3://bkt/k", size: 40 << 40, wantErr: "does not fit"},
		{dest: "s3://bkt/k", size: 1 << 30, chunk: 4 << 20, wantErr: "below S3's 5 MiB"},
		{dest: "s3://bkt/k", size: 1 << 30, chunk: 8 << 30, wantErr: "above S3's 5 GiB"},
		{dest: "s3://bkt/k", size: 10001 * (8 << 20), chunk: 8 << 20, wantErr: "10001 parts"},
		{dest: "s3://bkt/k", size: 0, chunk: 8 << 20, want: 8 << 20}, // size unknown yet
	}
	for _, tc := range cases {
		got, err := ChunkSizeFor(tc.dest, tc.size, tc.chunk)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ChunkSizeFor(%s, %d, %d) = %d, %v; want error %q", tc.dest, tc.size, tc.chunk, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ChunkSizeFor(%s, %d, %d) = %d, %v; want %d", tc.dest, tc.size, tc.chunk, got, err, tc.want)
		}
		if tc.size > 0 && strings.HasPrefix(tc.dest, "s3:") && rangeCount(tc.size, got) > s3MaxParts {
			t.Errorf("%d bytes in %d-byte parts is over %d parts", tc.size, got, s3MaxParts)
		}
	}
}

// TestLargestFinishPayload: the finish of a 40 TB retrieval to S3 (9,314
// parts in batch summaries) is one payload far below Temporal's 2 MiB.
func TestLargestFinishPayload(t *testing.T) {
	chunk, err := ChunkSizeFor("s3://bkt/k", glacierMaxArchive, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := rangeCount(glacierMaxArchive, chunk)
	in := activities.FinishInput{Prepared: activities.Prepared{UploadID: strings.Repeat("u", 128)}, TreeHash: strings.Repeat("f", 64)}
	for first := 0; first < n; first += glacierBatchRanges {
		parts := make([]activities.RangePart, min(glacierBatchRanges, n-first))
		for i := range parts {
			parts[i] = activities.RangePart{Index: first + i, Bytes: chunk, TreeHash: strings.Repeat("a", 64), ETag: `"` + strings.Repeat("e", 32) + `"`}
		}
		in.Batches = append(in.Batches, activities.SummarizeBatch(int64(first)*chunk, parts))
	}
	p, err := converter.GetDefaultDataConverter().ToPayload(in)
	if err != nil {
		t.Fatal(err)
	}
	if size := proto.Size(p); size > maxEventBytes {
		t.Errorf("finish payload of %d parts is %d bytes, over %d", n, size, maxEventBytes)
	} else {
		t.Logf("finish payload of %d parts in %d batches: %d bytes", n, len(in.Batches), size)
	}
}
