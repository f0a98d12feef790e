package benchkit

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/workflows"
)

// BuildWorker builds the worker binary into dir with the given build tags
// ("nodev" is the lean production build, "" the default one) and returns
// its path.
func BuildWorker(dir, tags string) (string, error) {
	name := "worker"
	if tags != "" {
		name += "-" + tags
	}
	bin := filepath.Join(dir, name)
	out, err := exec.Command("go", "build", "-tags", tags, "-o", bin, "github.com/vigilops/vigil/worker").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("building the worker (tags %q): %v\n%s", tags, err, out)
	}
	return bin, nil
}

// WorkerProcess is a worker binary running against a Temporal server and
// the local cloud.
type WorkerProcess struct {
	Cmd *exec.Cmd
}

// StartWorkerProcess runs bin against the server at address/namespace with
// AWS pointed at cloudURL; env adds variables (KEY=value), logs go to out
// (nil discards) at warn level.
func StartWorkerProcess(bin, address, namespace, cloudURL string, env []string, out io.Writer) (*WorkerProcess, error) {
	cmd := exec.Command(bin, "--address", address, "--namespace", namespace, "--log-level", "warn")
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL="+cloudURL, "AWS_REGION="+awsconf.LocalRegion,
		"AWS_ACCESS_KEY_ID="+awsconf.LocalAccessKey, "AWS_SECRET_ACCESS_KEY="+awsconf.LocalSecretKey)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &WorkerProcess{Cmd: cmd}, nil
}

// Stop sends SIGTERM and waits for the process to end.
func (p *WorkerProcess) Stop() {
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	_ = p.Cmd.Wait()
}

// Kill sends SIGKILL and waits for the process to end.
func (p *WorkerProcess) Kill() {
	_ = p.Cmd.Process.Kill()
	_ = p.Cmd.Wait()
}

// StatusKiB reads a kB field of /proc/<pid>/status (VmRSS, VmHWM...).
func (p *WorkerProcess) StatusKiB(field string) (int64, error) {
	return ProcStatusKiB(p.Cmd.Process.Pid, field)
}

// ProcStatusKiB reads a kB field of /proc/<pid>/status.
func ProcStatusKiB(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// ProcCPU is the user+system CPU time the process has used so far
// (/proc/<pid>/stat, in clock ticks of 1/100 s as on every Linux).
func ProcCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name is in parentheses and may hold spaces: fields
	// follow the last ')'. utime and stime are fields 14 and 15.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	var ticks int64
	for _, f := range fields[11:13] {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += v
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}

// WaitForPoller waits until a worker polls vigil's task queue for
// activities, or ctx ends. With pid > 0 only a poller of that process
// counts (the SDK's default identity starts with "pid@"): the server lists
// pollers of stopped workers for a while.
func WaitForPoller(ctx context.Context, c client.Client, pid int) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		d, err := c.DescribeTaskQueue(ctx, workflows.TaskQueue, enumspb.TASK_QUEUE_TYPE_ACTIVITY)
		for _, p := range d.GetPollers() {
			if pid <= 0 || strings.HasPrefix(p.GetIdentity(), fmt.Sprintf("%d@", pid)) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no worker polling %s: %w (last error %v)", workflows.TaskQueue, ctx.Err(), err)
		case <-t.C:
		}
	}
}
