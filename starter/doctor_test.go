package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
)

func TestDoctor(t *testing.T) {
	// Healthy: vigil's worker runs with the local cloud.
	_, clients := stacktest.Cloud(t, localcloud.Options{})
	h := newVigilHarnessWithCloud(t, func(string) string { return "" }, clients)
	r := h.run("doctor")
	if r.code != 0 || !strings.Contains(r.stdout, "ok   search attribute VigilFlow (Keyword)") ||
		!strings.Contains(r.stdout, "poller(s) on task queue vigil") || !strings.Contains(r.stdout, "ok   worker reaches the cloud: 0 S3 bucket(s)") {
		t.Fatalf("doctor with a healthy worker: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	r = h.run("-o", "json", "doctor")
	var rep doctorReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 || !rep.OK || len(rep.Checks) != 3+len(workflows.SearchAttributes) {
		t.Fatalf("doctor -o json: exit %d, %+v (%v)\n%s%s", r.code, rep, err, r.stdout, r.stderr)
	}

	// No worker at all.
	ts := testenv.NewTemporal(t)
	r = (&harness{t: t, global: []string{"--address", ts.GetFrontendHostPort(), "--namespace", ts.GetDefaultNamespace()}}).run("doctor")
	if r.code != 1 || !strings.Contains(r.stdout, "FAIL no worker polls task queue \"vigil\"") {
		t.Fatalf("doctor without a worker: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
