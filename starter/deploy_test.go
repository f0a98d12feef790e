package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/internal/rollout"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
)

func TestDeployUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"deploy", "set-current"}, "starter: set-current takes 1 to 1 arguments (got 0; see 'starter deploy set-current --help')\n"},
		{[]string{"deploy", "set-current", "__x"}, "starter: BUILD_ID \"__x\": must not start with \"__\"\n"},
		{[]string{"deploy", "ramp", "b1"}, "starter: ramp needs BUILD_ID and PERCENT (or --stop)\n"},
		{[]string{"deploy", "ramp", "b1", "0"}, "starter: ramp PERCENT \"0\": want a number above 0 and at most 100\n"},
		{[]string{"deploy", "ramp", "--stop", "b1"}, "starter: ramp --stop takes no arguments\n"},
		{[]string{"deploy", "status", "--deployment-name", "a.b"}, "starter: --deployment-name \"a.b\": must not contain spaces, quotes, backslashes or any of \".:\"\n"},
	} {
		r := runOffline(t, tc.args...)
		if r.code != 2 || r.stderr != tc.want || r.stdout != "" {
			t.Errorf("starter %q: exit %d, stderr %q, stdout %q; want exit 2 and %q", tc.args, r.code, r.stderr, r.stdout, tc.want)
		}
	}
}

// TestDeployAgainstTemporal drives `starter deploy` against two versioned
// workers: status before anything is current, set-current, a ramp and
// its rollback, and a deployment that does not exist.
func TestDeployAgainstTemporal(t *testing.T) {
	ts := testenv.NewTemporal(t)
	c := testenv.NewClient(t, ts)
	for _, build := range []string{"b1", "b2"} {
		w := worker.New(c, workflows.TaskQueue, worker.Options{Identity: "worker-" + build, DeploymentOptions: worker.DeploymentOptions{
			UseVersioning: true, Version: worker.WorkerDeploymentVersion{DeploymentName: rollout.DefaultDeploymentName, BuildID: build}}})
		w.RegisterWorkflowWithOptions(testWorkflow, workflow.RegisterOptions{Name: testWorkflowName, VersioningBehavior: workflow.VersioningBehaviorPinned})
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Stop)
	}
	h := &harness{t: t, c: c, ns: ts.GetDefaultNamespace(), global: []string{"--address", ts.GetFrontendHostPort(), "--namespace", ts.GetDefaultNamespace()}}
	status := func() rollout.Status {
		t.Helper()
		r := h.run("deploy", "status", "-o", "json")
		var st rollout.Status
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &st) != nil {
			t.Fatalf("deploy status: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		return st
	}
	testenv.Eventually(t, time.Minute, 100*time.Millisecond, "both builds polling", func() bool {
		r := h.run("deploy", "status", "-o", "json")
		var st rollout.Status
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &st) != nil {
			return false
		}
		b1, b2 := st.Find("b1"), st.Find("b2")
		return b1 != nil && b2 != nil && len(b1.Pollers) == 1 && len(b2.Pollers) == 1
	})
	r := h.run("deploy", "status")
	if r.code != 0 || !strings.Contains(r.stdout, "No current build: new runs wait") || !strings.Contains(r.stdout, "inactive") {
		t.Fatalf("status before set-current: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	var set, ramp, back rollout.Change
	testenv.Eventually(t, time.Minute, 100*time.Millisecond, "set-current b1", func() bool {
		r = h.run("deploy", "set-current", "b1", "-o", "json")
		return r.code == 0 && json.Unmarshal([]byte(r.stdout), &set) == nil
	})
	if set.Current != "b1" || set.PreviousCurrent != "" || !status().Find("b1").Current {
		t.Fatalf("set-current b1: %+v", set)
	}
	testenv.Eventually(t, time.Minute, 100*time.Millisecond, "ramp b2", func() bool {
		r = h.run("deploy", "ramp", "b2", "25", "-o", "json")
		return r.code == 0 && json.Unmarshal([]byte(r.stdout), &ramp) == nil
	})
	if b2 := status().Find("b2"); ramp.Ramping != "b2" || !b2.Ramping || b2.RampPercentage != 25 {
		t.Fatalf("ramp b2 25: %+v, status %+v", ramp, b2)
	}
	if r = h.run("deploy", "status"); !strings.Contains(r.stdout, "ramping 25%") || !strings.Contains(r.stdout, "current") {
		t.Fatalf("status while ramping:\n%s", r.stdout)
	}
	// Rolling back a ramp stops it; the current build stays.
	r = h.run("deploy", "rollback", "-o", "json")
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &back) != nil || back.PreviousRamping != "b2" || back.Ramping != "" || back.Current != "b1" {
		t.Fatalf("rollback of the ramp: exit %d, %+v, stderr %q", r.code, back, r.stderr)
	}
	if st := status(); st.Ramping() != nil || st.Current() != "b1" {
		t.Fatalf("after rollback: %+v", st)
	}
	// Nothing was current before b1: nothing to roll back to.
	r = h.run("deploy", "rollback")
	if r.code != 1 || !strings.Contains(r.stderr, "no earlier build to roll back to") {
		t.Fatalf("rollback with no earlier build: exit %d, stderr %q", r.code, r.stderr)
	}
	expectOneLine(t, r.stderr)
	r = h.run("deploy", "status", "--deployment-name", "nope")
	if r.code != 3 || !strings.Contains(r.stderr, `no worker deployment "nope"`) {
		t.Fatalf("unknown deployment: exit %d, stderr %q", r.code, r.stderr)
	}
	expectOneLine(t, r.stderr)
}
