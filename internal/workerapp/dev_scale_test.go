//go:build !nodev

package workerapp

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// TestDevScaleFromZero: in --dev, a batch job routed to the scale-from-zero
// queue while no worker polls it makes the embedded server start `worker`
// as a subprocess, which runs the job and exits once idle; afterwards no
// worker process is left. A restart on the same state sets it up again
// (the version exists; its compute config is updated).
func TestDevScaleFromZero(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts worker processes through /proc")
	}
	dir := t.TempDir()
	ep, stop := devRunOn(t, dir, devPorts{}, "--dev-scale-idle", "2s")
	stopped := false
	defer func() {
		if !stopped {
			stop()
		}
	}()
	if ep.ScaleQueue != workflows.HeavyTaskQueue {
		log, _ := os.ReadFile(filepath.Join(dir, DevScaleLog))
		t.Fatalf("scale from zero not set up (queue %q); worker log:\n%s", ep.ScaleQueue, log)
	}
	// The worker the server started to register the queue goes idle first.
	waitNoWorkerProcess(t)

	runColdJob(t, dir, ep, "batch/cold")
	stop()
	stopped = true

	ep, stop = devRunOn(t, dir, devPorts{}, "--dev-scale-idle", "2s")
	defer stop()
	if ep.ScaleQueue != workflows.HeavyTaskQueue {
		log, _ := os.ReadFile(filepath.Join(dir, DevScaleLog))
		t.Fatalf("scale from zero not set up again after a restart; worker log:\n%s", log)
	}
	// On new ports: a worker started with the old ones would never connect.
	waitNoWorkerProcess(t)
	runColdJob(t, dir, ep, "batch/cold-again")
}

// runColdJob runs a batch job on the scale-from-zero queue while no worker
// polls it, checks that another process ran it, and waits until no worker
// process is left.
func runColdJob(t *testing.T, dir string, ep Endpoints, id string) {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: ep.TemporalAddress, Namespace: ep.Namespace})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	job := flowdata.BatchJob{Name: "cold", Kind: flowdata.JobKindExec, Exec: &flowdata.ExecJob{Command: "true"}, TaskQueue: workflows.HeavyTaskQueue}
	in := workflows.BatchJobInput{Job: job}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.RouteTaskQueue(in, workflows.TaskQueue)},
		workflows.BatchJobName, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, DevScaleLog))
		t.Fatalf("job on the scale-from-zero queue: %v; worker log:\n%s", err, log)
	}
	// Another process ran it: the activity's worker identity is pid@host@vigil.
	iter := c.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var identity string
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil {
			identity = a.GetIdentity()
		}
	}
	if identity == "" || strings.HasPrefix(identity, strconv.Itoa(os.Getpid())+"@") {
		t.Errorf("activity ran by %q, want a subprocess worker", identity)
	}
	waitNoWorkerProcess(t)
	c.Close()
}

// waitNoWorkerProcess waits until no child process of this one runs this
// program (the subprocess workers) any more.
func waitNoWorkerProcess(t *testing.T) {
	t.Helper()
	testenv.Eventually(t, time.Minute, 50*time.Millisecond, "no subprocess worker left", func() bool {
		return len(workerChildren(t)) == 0
	})
}

// workerChildren are the PIDs of this process's children that run this
// program, from /proc.
func workerChildren(t *testing.T) []int {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) < 2 || fields[1] != strconv.Itoa(os.Getpid()) || fields[0] == "Z" {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && exe == self {
			out = append(out, pid)
		}
	}
	return out
}
