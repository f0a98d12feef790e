package activities

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/vigilops/vigil/workflows/flowdata"
)

// ExecHeartbeatInterval is how often a running command heartbeats (so a
// cancel reaches it within about this time).
const ExecHeartbeatInterval = 2 * time.Second

// Exec runs exec batch jobs on the worker host.
type Exec struct{}

// ExecInput is one exec job attempt.
type ExecInput struct {
	Job flowdata.ExecJob `json:"job"`
	Ctx JobContext       `json:"ctx"`
}

// ExecProgress is the heartbeat detail of a running command.
type ExecProgress struct {
	// OutputBytes counts the output produced so far.
	OutputBytes int64 `json:"outputBytes"`
	// PID of the command.
	PID int `json:"pid"`
}

// RunCommand runs the command, heartbeating while it runs, and kills its
// process group when the activity is cancelled or times out. A non-zero
// exit is a retryable ExitStatus error carrying the output tail; a command
// that cannot be started is a BadInput error.
func (a *Exec) RunCommand(ctx context.Context, in ExecInput) (JobOutput, error) {
	return runCommand(ctx, in.Job, []string{"VIGIL_RUN_ID=" + in.Ctx.RunID, "VIGIL_SCHEDULED_TIME=" + in.Ctx.ScheduledTime.UTC().Format(time.RFC3339)})
}

// runCommand runs j with the worker's environment, j.Env and extraEnv,
// heartbeating while it runs, and kills its process group when ctx ends or
// j's timeout passes. Batch jobs and exec processors share it.
func runCommand(ctx context.Context, j flowdata.ExecJob, extraEnv []string) (JobOutput, error) {
	timeout := j.Timeout.D()
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(runCtx, j.Command, j.Args...)
	cmd.Dir = j.Dir
	cmd.Env = os.Environ()
	for k, v := range j.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, extraEnv...)
	// Own process group, so the kill reaches the command's children too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	dieWithWorker(cmd.SysProcAttr)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	out := &lockedTail{t: tailBuffer{limit: OutputLimit}}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return JobOutput{}, BadInput("exec job: cannot start %q: %v", j.Command, err)
	}

	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(ExecHeartbeatInterval)
	defer tick.Stop()
	var waitErr error
loop:
	for {
		select {
		case waitErr = <-done:
			break loop
		case <-tick.C:
			activity.RecordHeartbeat(ctx, ExecProgress{OutputBytes: out.total(), PID: cmd.Process.Pid})
		}
	}
	res := JobOutput{ExitCode: cmd.ProcessState.ExitCode(), Output: out.String(), Truncated: out.truncated()}
	switch {
	case ctx.Err() != nil:
		return res, fmt.Errorf("exec job %q killed: %w", j.Command, ctx.Err())
	case errors.Is(runCtx.Err(), context.DeadlineExceeded):
		res.Summary = fmt.Sprintf("killed after %s timeout", timeout)
		return res, temporal.NewApplicationError(res.Summary, ErrTypeExitStatus, res)
	case waitErr != nil:
		res.Summary = fmt.Sprintf("exit %d: %s", res.ExitCode, FirstLine(lastLine(res.Output), 120))
		return res, temporal.NewApplicationError(res.Summary, ErrTypeExitStatus, res)
	}
	res.Summary = fmt.Sprintf("exit 0: %s", FirstLine(lastLine(res.Output), 120))
	return res, nil
}

// lockedTail is a tailBuffer shared by the command's stdout and stderr.
type lockedTail struct {
	mu sync.Mutex
	t  tailBuffer
}

func (l *lockedTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.t.Write(p)
}

func (l *lockedTail) total() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.t.total
}

func (l *lockedTail) truncated() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.t.truncated
}

func (l *lockedTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.t.String()
}

// lastLine returns the last non-empty line of s.
func lastLine(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '\n' {
			return s[i+1:]
		}
	}
	return s
}
