package workerapp

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Worker versioning from the environment: a worker with both variables set
// polls as that worker deployment version. The server's worker controller
// (auto-scaled workers, scale from zero in --dev) routes a queue's tasks
// only through a deployment version, and the Kubernetes manifests set them
// (deploy/k8s). Issue #22's versioning flags (--deployment-name,
// --build-id) name the same version.
const (
	// DeploymentNameEnv names the worker deployment.
	DeploymentNameEnv = "VIGIL_DEPLOYMENT_NAME"
	// BuildIDEnv is the build ID of this worker's version.
	BuildIDEnv = "VIGIL_BUILD_ID"
)

// applyDeploymentEnv makes o versioned when both variables are set. Runs
// of a versioned worker upgrade to the current version at their next
// workflow task (AutoUpgrade): vigil's workflows gate changes with
// workflow.GetVersion.
func applyDeploymentEnv(o *worker.Options, getenv func(string) string) {
	name, build := getenv(DeploymentNameEnv), getenv(BuildIDEnv)
	if name == "" || build == "" {
		return
	}
	o.DeploymentOptions = worker.DeploymentOptions{
		UseVersioning:             true,
		Version:                   worker.WorkerDeploymentVersion{DeploymentName: name, BuildID: build},
		DefaultVersioningBehavior: workflow.VersioningBehaviorAutoUpgrade,
	}
}
