package e2e

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// TestBatchExecWorkerProcessKilled is R1 of issue 13 for batch jobs: the
// worker process running an exec job's command is SIGKILLed mid-command.
// The command dies with it (no orphan runs on beside the retry), a new
// worker process retries the job after the heartbeat timeout (10 s), and
// the command completes exactly once.
func TestBatchExecWorkerProcessKilled(t *testing.T) {
	ts := testenv.NewTemporal(t)
	cloud, _ := stacktest.Cloud(t, localcloud.Options{})
	c := testenv.NewClient(t, ts)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	startProc := workerProcesses(ctx, t, ts, c, cloud.URL(), nil)
	first := startProc()

	dir := t.TempDir()
	starts, finishes := filepath.Join(dir, "starts"), filepath.Join(dir, "finishes")
	script := `echo $$ >> "$1"; sleep 2; echo done >> "$2"`
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "batch/kill-exec", TaskQueue: workflows.TaskQueue}, workflows.BatchJobWorkflow,
		workflows.BatchJobInput{Job: flowdata.BatchJob{Name: "kill-exec", Kind: flowdata.JobKindExec,
			Exec: &flowdata.ExecJob{Command: "sh", Args: []string{"-c", script, "sh", starts, finishes}, Timeout: flowdata.Duration(time.Minute)}}})
	if err != nil {
		t.Fatal(err)
	}
	lines := func(path string) []string {
		b, err := os.ReadFile(path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		return strings.Fields(string(b))
	}
	testenv.Eventually(t, time.Minute, 20*time.Millisecond, "the command to start", func() bool { return len(lines(starts)) == 1 })
	pid, err := strconv.Atoi(lines(starts)[0])
	if err != nil {
		t.Fatal(err)
	}
	first.Kill()
	testenv.Eventually(t, 10*time.Second, 20*time.Millisecond, "the command to die with its worker", func() bool {
		return !running(pid)
	})
	startProc()
	var res workflows.BatchJobResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("batch job after the kill: %v", err)
	}
	if got := lines(finishes); len(got) != 1 {
		t.Errorf("the command finished %d times, want once (starts: %v)", len(got), lines(starts))
	}
	if got := lines(starts); len(got) != 2 {
		t.Errorf("the command started %d times, want twice (killed, then retried): %v", len(got), got)
	}
}

// running tells whether process pid exists and is not a zombie (a killed
// orphan stays a zombie until the init process reaps it).
func running(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses: "pid (comm) S ...".
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}
