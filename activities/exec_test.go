package activities

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/vigilops/vigil/workflows/flowdata"
)

func runExec(t *testing.T, ctx context.Context, job flowdata.ExecJob) (JobOutput, error) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.SetWorkerOptions(worker.Options{BackgroundActivityContext: ctx})
	(&Exec{}).Register(env)
	var a *Exec
	v, err := env.ExecuteActivity(a.RunCommand, ExecInput{Job: job, Ctx: JobContext{RunID: "r1"}})
	var out JobOutput
	if err == nil {
		if gerr := v.Get(&out); gerr != nil {
			t.Fatal(gerr)
		}
	} else {
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) && appErr.HasDetails() {
			_ = appErr.Details(&out)
		}
	}
	return out, err
}

func TestExecOutputAndExitCodes(t *testing.T) {
	cases := []struct {
		name     string
		job      flowdata.ExecJob
		wantErr  string
		wantCode int
		wantOut  string
	}{
		{"ok", flowdata.ExecJob{Command: "sh", Args: []string{"-c", "echo start; echo \"run=$VIGIL_RUN_ID x=$X\""}, Env: map[string]string{"X": "42"}}, "", 0, "run=r1 x=42"},
		{"exit 3", flowdata.ExecJob{Command: "sh", Args: []string{"-c", "echo boom >&2; exit 3"}}, ErrTypeExitStatus, 3, "boom"},
		{"no such command", flowdata.ExecJob{Command: "/nonexistent/vigil-cmd"}, ErrTypeBadInput, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runExec(t, context.Background(), tc.job)
			var appErr *temporal.ApplicationError
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.wantErr != "" && (!errors.As(err, &appErr) || appErr.Type() != tc.wantErr):
				t.Fatalf("want %s error, got %v", tc.wantErr, err)
			}
			if out.ExitCode != tc.wantCode || !strings.Contains(out.Output, tc.wantOut) {
				t.Errorf("output = %+v", out)
			}
		})
	}
}

func TestExecOutputKeepsTail(t *testing.T) {
	out, err := runExec(t, context.Background(), flowdata.ExecJob{Command: "sh", Args: []string{"-c", "head -c 200000 /dev/zero | tr '\\0' a; echo; echo END"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Output) != OutputLimit || !out.Truncated || !strings.HasSuffix(out.Output, "END\n") {
		t.Errorf("kept %d bytes, truncated=%v, tail %q", len(out.Output), out.Truncated, out.Output[len(out.Output)-10:])
	}
}

// waitGone waits until pid no longer exists.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still alive", pid)
		}
		pollPause()
	}
}

func childPID(t *testing.T, file string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// TestExecKilledOnTimeoutAndCancel checks that the command and its
// children die when the job's timeout passes or the activity is cancelled.
func TestExecKilledOnTimeoutAndCancel(t *testing.T) {
	for _, mode := range []string{"timeout", "cancel"} {
		t.Run(mode, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "child.pid")
			job := flowdata.ExecJob{Command: "sh", Args: []string{"-c", "sleep 300 & echo $! > " + pidFile + "; wait"}}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if mode == "timeout" {
				job.Timeout = flowdata.Duration(time.Second)
			} else {
				go func() {
					// Cancel once the child exists: a real condition, polled.
					for {
						if _, err := os.Stat(pidFile); err == nil {
							cancel()
							return
						}
						pollPause()
					}
				}()
			}
			_, err := runExec(t, ctx, job)
			if err == nil {
				t.Fatal("want an error")
			}
			if mode == "timeout" && !strings.Contains(err.Error(), "killed after") {
				t.Errorf("error = %v", err)
			}
			waitGone(t, childPID(t, pidFile))
		})
	}
}
