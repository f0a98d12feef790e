package devserver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	computeprovider "go.temporal.io/auto-scaled-workers/wci/workflow/compute_provider"
	"go.temporal.io/auto-scaled-workers/wci/workflow/iface"
	"go.temporal.io/server/common/dynamicconfig"
)

// The worker controller's subprocess compute provider, for --dev. The
// module ships one (compute_provider/subprocess.go) only under the build
// tag computeprovider_subprocess, and it runs workers through timeout(1)
// and leaves them behind when the server stops. This one registers under
// the same type without a tag, starts the command directly, appends its
// output to a log file, and lets the server that asked for a worker stop
// the ones still running when it stops (Server.Stop). Built with the tag,
// the module's provider is registered first and wins.
func init() {
	computeprovider.RegisterComputeProvider(iface.ComputeProviderTypeSubprocess,
		func(context.Context, *dynamicconfig.Collection) (computeprovider.ComputeProvider, error) {
			return subprocessProvider{}, nil
		})
}

// Config keys of the subprocess provider: command and args as the
// module's provider has them (args comma-separated), and vigil's own.
const (
	subprocCommand = "command"
	subprocArgs    = "args"
	// subprocEnv: comma-separated NAME=value added to the server's
	// environment.
	subprocEnv = "env"
	// subprocLog: file the worker's output is appended to.
	subprocLog = "log"
	// subprocTimeout: the worker is killed after this long (Go duration;
	// default defaultWorkerLifetime).
	subprocTimeout = "timeout"
	// subprocOwner: the frontend address of the server that set the
	// config; that server stops the worker when it stops.
	subprocOwner = "owner"
)

// defaultWorkerLifetime bounds a subprocess worker that never goes idle.
const defaultWorkerLifetime = time.Hour

// workerStopGrace is how long Server.Stop lets its subprocess workers
// drain after SIGTERM before it kills them.
const workerStopGrace = 10 * time.Second

type subprocessProvider struct{}

func (subprocessProvider) LaunchStrategy() computeprovider.LaunchStrategy {
	return computeprovider.LaunchStrategyInvoke
}

func (subprocessProvider) ValidateConfig(_ context.Context, _ computeprovider.RequestContext, c computeprovider.ComputeProviderConfig) error {
	_, err := parseSubprocess(c)
	return err
}

func (subprocessProvider) InvokeWorker(_ context.Context, _ computeprovider.RequestContext, c computeprovider.ComputeProviderConfig) error {
	sp, err := parseSubprocess(c)
	if err != nil {
		return err
	}
	return children.start(sp)
}

func (subprocessProvider) UpdateWorkerSetSize(context.Context, computeprovider.RequestContext, computeprovider.ComputeProviderConfig, int32) error {
	return errors.ErrUnsupported
}

type subprocess struct {
	command, log, owner string
	args, env           []string
	timeout             time.Duration
}

func parseSubprocess(c computeprovider.ComputeProviderConfig) (subprocess, error) {
	str := func(k string) string { s, _ := c[k].(string); return strings.TrimSpace(s) }
	list := func(k string) []string {
		if s := str(k); s != "" {
			return strings.Split(s, ",")
		}
		return nil
	}
	sp := subprocess{command: str(subprocCommand), args: list(subprocArgs), env: list(subprocEnv), log: str(subprocLog),
		owner: str(subprocOwner), timeout: defaultWorkerLifetime}
	if sp.command == "" {
		return sp, errors.New("command not found in config")
	}
	if _, err := exec.LookPath(sp.command); err != nil {
		return sp, fmt.Errorf("command %q not found locally: %w", sp.command, err)
	}
	if t := str(subprocTimeout); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil || d <= 0 {
			return sp, fmt.Errorf("timeout %q: want a positive duration", t)
		}
		sp.timeout = d
	}
	return sp, nil
}

// workerProcs are the subprocess workers running, by owner.
type workerProcs struct {
	mu    sync.Mutex
	procs map[*exec.Cmd]string
	done  map[*exec.Cmd]chan struct{}
}

var children = &workerProcs{procs: map[*exec.Cmd]string{}, done: map[*exec.Cmd]chan struct{}{}}

func (w *workerProcs) start(sp subprocess) error {
	cmd := exec.Command(sp.command, sp.args...)
	cmd.Env = append(os.Environ(), sp.env...)
	var logf *os.File
	if sp.log != "" {
		f, err := os.OpenFile(sp.log, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("worker log: %w", err)
		}
		logf, cmd.Stdout, cmd.Stderr = f, f, f
	}
	if err := cmd.Start(); err != nil {
		if logf != nil {
			logf.Close()
		}
		return fmt.Errorf("starting subprocess worker: %w", err)
	}
	done := make(chan struct{})
	w.mu.Lock()
	w.procs[cmd], w.done[cmd] = sp.owner, done
	w.mu.Unlock()
	go func() {
		timer := time.AfterFunc(sp.timeout, func() { _ = cmd.Process.Kill() })
		_ = cmd.Wait()
		timer.Stop()
		if logf != nil {
			logf.Close()
		}
		w.mu.Lock()
		delete(w.procs, cmd)
		delete(w.done, cmd)
		w.mu.Unlock()
		close(done)
	}()
	return nil
}

// pids are the process IDs of owner's running workers.
func (w *workerProcs) pids(owner string) []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []int
	for cmd, o := range w.procs {
		if o == owner {
			out = append(out, cmd.Process.Pid)
		}
	}
	slices.Sort(out)
	return out
}

// stop sends SIGTERM to owner's workers (they drain and exit), kills those
// still running after grace, and waits for them all.
func (w *workerProcs) stop(owner string, grace time.Duration) {
	w.mu.Lock()
	var waits []chan struct{}
	var cmds []*exec.Cmd
	for cmd, o := range w.procs {
		if o == owner {
			cmds, waits = append(cmds, cmd), append(waits, w.done[cmd])
			_ = cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	w.mu.Unlock()
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	for i, done := range waits {
		select {
		case <-done:
		case <-deadline.C:
			for _, c := range cmds[i:] {
				_ = c.Process.Kill()
			}
			for _, d := range waits[i:] {
				<-d
			}
			return
		}
	}
}
