package workerapp

import (
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/router"
	"github.com/vigilops/vigil/workflows"
)

// TestFlowsSelectsRegistrations: --flows batch registers the batch flow and
// the shared parts, not the other flows; no --flows registers them all.
func TestFlowsSelectsRegistrations(t *testing.T) {
	reg := func(flows []string) []string {
		rec := &nameRecorder{}
		RegisterFlows(rec, router.New(nil, router.Options{}), &Deps{AWS: &awsconf.Clients{}, Logger: slog.Default(), Flows: flows})
		return rec.workflows
	}
	some := reg([]string{workflows.BatchFlow})
	for _, want := range []string{workflows.BatchJobName, workflows.SelfCheckName, workflows.RouterQueuesName} {
		if !slices.Contains(some, want) {
			t.Errorf("--flows batch: %s not registered (%v)", want, some)
		}
	}
	for _, not := range []string{workflows.S3ObjectName, workflows.GlacierRetrieveName, workflows.BackupName} {
		if slices.Contains(some, not) {
			t.Errorf("--flows batch registered %s", not)
		}
	}
	all := reg(nil)
	if !slices.Contains(all, workflows.S3ObjectName) || len(all) <= len(some) {
		t.Errorf("no --flows: %v", all)
	}
}

func TestScaleFlags(t *testing.T) {
	cfg, err := ParseFlags([]string{"--task-queue", "vigil-heavy", "--flows", "batch,s3-object", "--exit-when-idle", "30s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Scale.Flows, []string{"batch", "s3-object"}) || cfg.Scale.ExitWhenIdle.String() != "30s" || cfg.Scale.runsRouter() {
		t.Errorf("parsed %+v", cfg.Scale)
	}
	for args, want := range map[string]string{
		"--flows batch,teleport":        `unknown flow "teleport"`,
		"--exit-when-idle -1s":          "negative",
		"--dev --exit-when-idle 1m":     "--dev",
		"--exit-when-idle soon":         "invalid value",
		"--dev --dev-scale-queue vigil": "own --task-queue",
		"--dev-scale-queue a@b":         "--dev-scale-queue",
	} {
		_, err := ParseFlags(strings.Fields(args), io.Discard)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error with %q", args, err, want)
		}
	}
}
