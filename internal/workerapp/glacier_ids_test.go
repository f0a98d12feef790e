package workerapp

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/internal/router"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// TestGlacierNotificationsReachBothIDForms: a job's completion reaches the
// run that initiated it whether that run has the short workflow ID of this
// release or the whole-archive-id form of earlier ones (runs in flight
// during an upgrade): the router signals the ID the job's description
// holds, against a real Temporal server.
func TestGlacierNotificationsReachBothIDForms(t *testing.T) {
	ts := testenv.NewTemporal(t)
	c := testenv.NewClient(t, ts)
	const tq = "ids"
	// A stand-in for a waiting retrieval: it returns the job its signal names.
	awaitJob := func(ctx workflow.Context) (string, error) {
		var st flowdata.GlacierJobState
		workflow.GetSignalChannel(ctx, workflows.GlacierJobSignal).Receive(ctx, &st)
		return st.JobID + "/" + st.Source, nil
	}
	ts.NewWorker(tq, func(r worker.Registry) { // stopped with the server
		r.RegisterWorkflowWithOptions(awaitJob, workflow.RegisterOptions{Name: "AwaitGlacierJob"})
	})
	d := &Deps{Temporal: c, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	archive := strings.Repeat("0123456789", 14)[:138]
	for i, id := range []string{workflows.GlacierWorkflowID("v", archive), workflows.GlacierLegacyWorkflowID("v", archive)} {
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: tq}, "AwaitGlacierJob")
		if err != nil {
			t.Fatal(err)
		}
		job := &router.GlacierJob{JobID: "job-" + string(rune('a'+i)), JobDescription: id, StatusCode: "Succeeded", Completed: true}
		if err := signalGlacierJob(ctx, d, job, router.MessageInfo{MessageID: "m"}); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		var got string
		if err := run.Get(ctx, &got); err != nil || got != job.JobID+"/notification" {
			t.Errorf("run %s got %q (%v), want the notification of %s", id, got, err, job.JobID)
		}
	}
}
