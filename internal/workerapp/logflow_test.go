package workerapp

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/internal/tclient"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
)

// TestLogLinesCarryFlow runs a workflow and an activity that log, on a
// worker with vigil's interceptors and a JSON slog logger like --log-format
// json, and finds the flow and the workflow ID on both lines.
func TestLogLinesCarryFlow(t *testing.T) {
	ts := testenv.NewTemporal(t)
	var out syncBuffer
	opts := testenv.Options(t, ts)
	opts.Logger = slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo}))
	c, err := tclient.Dial(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const tq = "logflow"
	w := worker.New(c, tq, worker.Options{Interceptors: workerInterceptors()})
	// Registered under a vigil workflow type, whose flow the line must name.
	w.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
		workflow.GetLogger(ctx).Info("probe workflow line")
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
		return workflow.ExecuteActivity(ctx, "LogProbe").Get(ctx, nil)
	}, workflow.RegisterOptions{Name: workflows.SelfCheckName})
	w.RegisterActivityWithOptions(func(ctx context.Context) error {
		activity.GetLogger(ctx).Info("probe activity line")
		return nil
	}, activity.RegisterOptions{Name: "LogProbe"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "logflow-1", TaskQueue: tq}, workflows.SelfCheckName)
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	for _, msg := range []string{"probe workflow line", "probe activity line"} {
		var found map[string]any
		for _, line := range strings.Split(out.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == msg {
				found = m
			}
		}
		if found == nil {
			t.Fatalf("no log line %q in:\n%s", msg, out.String())
		}
		if found[FlowLogKey] != workflows.SelfCheckFlow || found["WorkflowID"] != "logflow-1" {
			t.Errorf("%q: %s=%v WorkflowID=%v, want %s and logflow-1 (line %v)", msg, FlowLogKey, found[FlowLogKey], found["WorkflowID"], workflows.SelfCheckFlow, found)
		}
	}
}
