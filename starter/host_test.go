package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/internal/workerapp"
	"github.com/vigilops/vigil/workflows"
)

// TestStatusShowsWaitingForHost retrieves to a file on a host that no
// worker serves: the run waits for that host rather than delivering
// elsewhere, `starter status` says so (text and JSON), and once a worker of
// that host starts, the run finishes there with the whole file.
func TestStatusShowsWaitingForHost(t *testing.T) {
	defer func(d time.Duration) { workflows.HostWaitTimeout = d }(workflows.HostWaitTimeout)
	workflows.HostWaitTimeout = 2 * time.Second // set before any worker runs
	s := newGlacierStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const vault, host, size = "ghost-vault", "ghost-01", 3 << 20
	archive, _ := s.putArchive(t, vault, 11, size)
	dest := filepath.Join(t.TempDir(), "out.bin")
	id := workflows.GlacierWorkflowID(vault, archive)
	r := s.run(ctx, nil, "glacier", "retrieve", "--vault", vault, "--archive-id", archive, "--tier", "Expedited",
		"--to", "file://"+host+dest, "--allow-unknown-host")
	if r.code != 0 {
		t.Fatalf("retrieve: exit %d, stderr %q", r.code, r.stderr)
	}

	want := "waiting for host " + host
	testenv.Eventually(t, time.Minute, 200*time.Millisecond, "starter status to say "+want, func() bool {
		r = s.run(ctx, nil, "status", id)
		return r.code == 0 && strings.Contains(r.stdout, want)
	})
	r = s.run(ctx, nil, "status", id, "-o", "json")
	var rep statusReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Progress == nil ||
		!workflows.IsWaitingForHost(rep.Progress.Message, host) || rep.Progress.Details["host"] != host {
		t.Errorf("status -o json: %v; want message %q on %s\n%s", err, want, host, r.stdout)
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Errorf("%s exists on this host (err %v): the run delivered to another host than %s", dest, err, host)
	}

	hw := workerapp.NewHostWorker(s.c, workflows.TaskQueue, &workerapp.Deps{Temporal: s.c, AWS: s.aws,
		Logger: testenv.TestLogger(t, 0), Getenv: os.Getenv, Host: host})
	if err := hw.Start(); err != nil {
		t.Fatal(err)
	}
	defer hw.Stop()
	if r = s.run(ctx, nil, "wait", id); r.code != 0 {
		t.Fatalf("wait: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if fi, err := os.Stat(dest); err != nil || fi.Size() != size {
		t.Fatalf("delivered file: %v (%v bytes), want %d bytes", err, fi, size)
	}
	r = s.run(ctx, nil, "status", id, "-o", "json")
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Progress == nil || workflows.IsWaitingForHost(rep.Progress.Message, host) {
		t.Errorf("status after the host came back: %v\n%s", err, r.stdout)
	}
}
