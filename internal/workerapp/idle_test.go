package workerapp_test

import (
	"context"
	"io"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/codec"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/internal/workerapp"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// TestExitWhenIdle runs the production worker of one flow on a queue of its
// own with --exit-when-idle: it takes the batch job waiting there, and once
// the job is done and nothing else comes, Run returns nil by itself.
func TestExitWhenIdle(t *testing.T) {
	ts := testenv.NewTemporal(t)
	for k, v := range map[string]string{"AWS_REGION": awsconf.LocalRegion, "AWS_ACCESS_KEY_ID": awsconf.LocalAccessKey,
		"AWS_SECRET_ACCESS_KEY": awsconf.LocalSecretKey, codec.KeysEnv: "", codec.KeysFileEnv: ""} {
		t.Setenv(k, v)
	}
	const queue = "vigil-heavy"
	ctx := context.Background()
	c := testenv.NewClient(t, ts)
	// The job waits on the queue before the worker exists, as a run routed
	// to a pool scaled to zero does.
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "batch/idle-test", TaskQueue: queue}, workflows.BatchJobName,
		workflows.BatchJobInput{Job: flowdata.BatchJob{Name: "idle-test", Kind: flowdata.JobKindExec, Exec: &flowdata.ExecJob{Command: "true"}}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := workerapp.ParseFlags([]string{"--address", ts.GetFrontendHostPort(), "--namespace", ts.GetDefaultNamespace(),
		"--task-queue", queue, "--flows", workflows.BatchFlow, "--exit-when-idle", "3s", "--log-level", "warn"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- workerapp.Run(runCtx, cfg, io.Discard, io.Discard, nil) }()

	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := run.Get(wctx, nil); err != nil {
		t.Fatalf("job on the idle-exiting worker: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("worker ended with %v, want a clean exit", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("worker still running 60s after its last task with --exit-when-idle 3s")
	}
}
