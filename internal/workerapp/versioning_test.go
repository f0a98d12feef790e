package workerapp

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/rollout"
	"github.com/vigilops/vigil/internal/router"
	"github.com/vigilops/vigil/internal/version"
	"github.com/vigilops/vigil/workflows"
)

// behaviourRecorder is a worker.Registry that keeps each workflow type's
// versioning behaviour.
type behaviourRecorder struct {
	nameRecorder
	behaviour map[string]workflow.VersioningBehavior
}

func (b *behaviourRecorder) RegisterWorkflowWithOptions(_ any, o workflow.RegisterOptions) {
	b.behaviour[o.Name] = o.VersioningBehavior
}

// TestEveryWorkflowHasAVersioningBehaviour: a versioned worker refuses a
// workflow type without one (the SDK panics at registration), so every
// type the flows register must be in workflows.Versioning; the long waits
// are pinned and the per-object runs auto-upgrade.
func TestEveryWorkflowHasAVersioningBehaviour(t *testing.T) {
	rec := &behaviourRecorder{behaviour: map[string]workflow.VersioningBehavior{}}
	RegisterFlows(rec, router.New(nil, router.Options{}), &Deps{AWS: &awsconf.Clients{}, Logger: slog.Default()})
	if len(rec.behaviour) < 10 {
		t.Fatalf("only %d workflow types registered", len(rec.behaviour))
	}
	for name, b := range rec.behaviour {
		if b == workflow.VersioningBehaviorUnspecified {
			t.Errorf("workflow %s has no versioning behaviour (add it to workflows.Versioning)", name)
		}
	}
	for name, want := range map[string]workflow.VersioningBehavior{
		workflows.GlacierRetrieveName: workflow.VersioningBehaviorPinned,
		workflows.S3RestoreName:       workflow.VersioningBehaviorPinned,
		workflows.S3ObjectName:        workflow.VersioningBehaviorAutoUpgrade,
		workflows.RouterQueuesName:    workflow.VersioningBehaviorAutoUpgrade,
	} {
		if rec.behaviour[name] != want {
			t.Errorf("%s: behaviour %v, want %v", name, rec.behaviour[name], want)
		}
	}
}

func TestVersioningFlags(t *testing.T) {
	t.Setenv(rollout.DeploymentNameEnv, "")
	t.Setenv(rollout.BuildIDEnv, "")
	cfg, err := ParseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Versioning.Enabled() || (cfg.Versioning.deploymentOptions() != worker.DeploymentOptions{}) {
		t.Fatalf("versioning on without a deployment name: %+v", cfg.Versioning)
	}
	cfg, err = ParseFlags([]string{"--deployment-name", "vigil", "--build-id", "b1"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Versioning.deploymentOptions()
	if !got.UseVersioning || got.Version.DeploymentName != "vigil" || got.Version.BuildID != "b1" {
		t.Fatalf("deployment options %+v", got)
	}
	t.Setenv(rollout.DeploymentNameEnv, "ops")
	t.Setenv(rollout.BuildIDEnv, "from-env")
	if cfg, err = ParseFlags(nil, io.Discard); err != nil || cfg.Versioning.DeploymentName != "ops" || cfg.Versioning.BuildID != "from-env" {
		t.Fatalf("from the environment: %+v, %v", cfg.Versioning, err)
	}
	if cfg, err = ParseFlags([]string{"--build-id", "flag"}, io.Discard); err != nil || cfg.Versioning.BuildID != "flag" {
		t.Fatalf("the flag wins over the environment: %+v, %v", cfg.Versioning, err)
	}
	t.Setenv(rollout.DeploymentNameEnv, "")
	t.Setenv(rollout.BuildIDEnv, "")
	for _, bad := range [][]string{
		{"--build-id", "b1"},
		{"--deployment-name", "a.b", "--build-id", "b1"},
		{"--deployment-name", "a:b", "--build-id", "b1"},
		{"--deployment-name", "vigil", "--build-id", "__x"},
		{"--deployment-name", "vigil", "--build-id", "it's"},
		{"--deployment-name", "vigil", "--build-id", strings.Repeat("x", 256)},
	} {
		if _, err := ParseFlags(bad, io.Discard); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: want a one-line error, got %v", bad, err)
		}
	}
}

func TestDefaultBuildID(t *testing.T) {
	for _, c := range []struct {
		in   version.Info
		want string
	}{
		{version.Info{Version: "v1.4.0", Commit: "0123456789abcdef"}, "v1.4.0+0123456789ab"},
		{version.Info{Version: "(devel)", Commit: "0123456789abcdef", Modified: true}, "devel+0123456789ab-dirty"},
		{version.Info{Version: "v1.4.0"}, "v1.4.0"},
		{version.Info{Version: "(devel)"}, ""},
	} {
		if got := DefaultBuildID(c.in); got != c.want {
			t.Errorf("DefaultBuildID(%+v) = %q, want %q", c.in, got, c.want)
		}
		if c.want != "" {
			if err := rollout.CheckBuildID("id", c.want); err != nil {
				t.Errorf("default %q is refused: %v", c.want, err)
			}
		}
	}
}
