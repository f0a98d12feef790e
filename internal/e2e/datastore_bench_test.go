package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// BenchmarkDatastoreDoneToSlack measures in real time, through the real
// worker, Temporal server, emulator and Slack sink, the time from an
// operation's end (its common end time) to the report's arrival in the
// sink, polling every 100 ms: the pipeline's own overhead (poll activity,
// report activity, webhook POST) plus at most one 100 ms poll interval.
// The policy's share of the latency is measured separately with time
// skipping (the datastore-export scenario of internal/bench).
func BenchmarkDatastoreDoneToSlack(b *testing.B) {
	s := newDSStackOn(b, testenv.NewTemporalB(b))
	stacktest.StartWorker(b, s.ts, s.aws, s.getenv)
	poll := flowdata.DatastorePollPolicy{Initial: flowdata.Duration(100 * time.Millisecond), Max: flowdata.Duration(100 * time.Millisecond)}
	var lat []time.Duration
	i := 0
	for b.Loop() {
		i++
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		run, err := s.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "ds-bench-" + time.Now().Format("150405.000000"), TaskQueue: workflows.TaskQueue},
			workflows.DatastoreExportName, flowdata.DatastoreExportInput{Project: "demo-project", OutputURLPrefix: "gs://bench/x", Poll: poll})
		if err != nil {
			b.Fatal(err)
		}
		var res flowdata.DatastoreResult
		if err := run.Get(ctx, &res); err != nil {
			b.Fatal(err)
		}
		cancel()
		for _, m := range s.cloud.Slack.Messages() {
			if p, _ := m.Decode(); len(p.Attachments) > 0 && strings.Contains(p.Attachments[0].Footer, run.GetRunID()) {
				lat = append(lat, m.Received.Sub(res.Operation.End))
			}
		}
	}
	if len(lat) != i {
		b.Fatalf("%d reports for %d runs", len(lat), i)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Milliseconds()), "max-ms")
}
