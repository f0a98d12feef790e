package workerapp

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"go.temporal.io/sdk/worker"

	"github.com/vigilops/vigil/internal/rollout"
	"github.com/vigilops/vigil/internal/version"
)

// VersioningConfig opts the worker into Worker Versioning (README
// "Rollouts"): with a deployment name, the worker polls as one version
// (deployment name + build ID) of that Worker Deployment, and each workflow
// type runs with its behaviour (workflows.Versioning). Without one, the
// worker is unversioned, as before.
type VersioningConfig struct {
	// DeploymentName names the Worker Deployment; empty is unversioned.
	DeploymentName string
	// BuildID names this build within the deployment; empty takes
	// DefaultBuildID.
	BuildID string
}

func addVersioningFlags(fs *flag.FlagSet, v *VersioningConfig) {
	fs.StringVar(&v.DeploymentName, "deployment-name", os.Getenv(rollout.DeploymentNameEnv),
		"Worker Versioning: the Worker Deployment this worker belongs to (default $"+rollout.DeploymentNameEnv+"); empty runs unversioned (README \"Rollouts\")")
	fs.StringVar(&v.BuildID, "build-id", os.Getenv(rollout.BuildIDEnv),
		"Worker Versioning: this build's ID within --deployment-name (default $"+rollout.BuildIDEnv+", else the binary's version and commit, e.g. v1.4.0+0123456789ab)")
}

// Enabled tells whether the worker runs versioned.
func (v VersioningConfig) Enabled() bool { return v.DeploymentName != "" }

// validate checks the names and fills in the default build ID.
func (v *VersioningConfig) validate() error {
	if !v.Enabled() {
		if v.BuildID != "" {
			return fmt.Errorf("--build-id %q needs --deployment-name (or $%s)", v.BuildID, rollout.DeploymentNameEnv)
		}
		return nil
	}
	if err := rollout.CheckDeploymentName("--deployment-name", v.DeploymentName); err != nil {
		return err
	}
	if v.BuildID == "" {
		v.BuildID = DefaultBuildID(version.Get())
		if v.BuildID == "" {
			return fmt.Errorf("--deployment-name %q: this binary records no version or commit; give --build-id (or $%s)", v.DeploymentName, rollout.BuildIDEnv)
		}
	}
	return rollout.CheckBuildID("--build-id", v.BuildID)
}

// DefaultBuildID is the build ID of a binary: its version and the first 12
// characters of its commit ("v1.4.0+0123456789ab", "devel+0123456789ab"),
// "-dirty" appended for a checkout with uncommitted changes; "" when the
// binary records neither a release version nor a commit.
func DefaultBuildID(in version.Info) string {
	v := strings.Trim(in.Version, "()")
	commit := in.Commit
	if len(commit) > 12 {
		commit = commit[:12]
	}
	var id string
	switch {
	case commit != "":
		id = v + "+" + commit
	case in.Version != "(devel)" && in.Version != "":
		id = v
	default:
		return ""
	}
	if in.Modified {
		id += "-dirty"
	}
	return id
}

// deploymentOptions are the worker.DeploymentOptions of v: versioning on
// with this version, or the zero value (unversioned).
func (v VersioningConfig) deploymentOptions() worker.DeploymentOptions {
	if !v.Enabled() {
		return worker.DeploymentOptions{}
	}
	return worker.DeploymentOptions{UseVersioning: true,
		Version: worker.WorkerDeploymentVersion{DeploymentName: v.DeploymentName, BuildID: v.BuildID}}
}

// logStart says how the worker is versioned, and what makes a new version
// receive work.
func (v VersioningConfig) logStart(logger *slog.Logger) {
	if !v.Enabled() {
		logger.Debug("unversioned worker (no --deployment-name)")
		return
	}
	logger.Info("versioned worker: new runs reach this build once it is the deployment's current (or ramping) version; see `starter deploy status`",
		"deploymentName", v.DeploymentName, "buildId", v.BuildID,
		"makeCurrent", "starter deploy set-current "+v.BuildID+" --deployment-name "+v.DeploymentName)
}
