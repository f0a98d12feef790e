package devserver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	computepb "go.temporal.io/api/compute/v1"
	deploymentpb "go.temporal.io/api/deployment/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	wciclient "go.temporal.io/auto-scaled-workers/wci/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/server/common/dynamicconfig"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// SubprocessProvider is the worker controller's compute provider type that
// starts workers as local processes (development only; subprocess.go).
const SubprocessProvider = "subprocess"

// scalerNoSync is the scaling algorithm of invoke providers: start a
// worker when a task finds no poller waiting.
const scalerNoSync = "no-sync"

// autoScaleGroup names the one scaling group (workflow and activity tasks).
const autoScaleGroup = "all"

// autoScaleIdentity is the identity of the deployment API calls.
const autoScaleIdentity = "vigil-dev"

// registrationTimeout bounds the wait for the first worker to register
// the task queue with the version.
const registrationTimeout = time.Minute

// workerControllerConfig is the dynamic config that turns the embedded
// server's worker controller on (auto-scaled workers: a deployment
// version's compute config makes the server start a worker when a task
// reaches a queue nobody polls) with the subprocess provider only.
func workerControllerConfig() map[dynamicconfig.Key]any {
	return map[dynamicconfig.Key]any{
		wciclient.WorkerControllerEnabled.Key():                 true,
		wciclient.WorkerControllerEnabledComputeProviders.Key(): []string{SubprocessProvider},
	}
}

// AutoScaleOptions describe a task queue whose workers the server starts
// on demand, as subprocesses.
type AutoScaleOptions struct {
	// DeploymentName and BuildID name the worker deployment version the
	// queue is routed through; the workers must poll as that version.
	DeploymentName, BuildID string
	// TaskQueue is the queue; AutoScale returns once it is registered.
	TaskQueue string
	// Command and Args start one worker (no commas in Args).
	Command string
	Args    []string
	// Env are NAME=value pairs added to the worker's environment.
	Env []string
	// LogFile receives the workers' output; empty discards it.
	LogFile string
	// MaxLifetime kills a worker still running after this long; 0 is an hour.
	MaxLifetime time.Duration
}

// AutoScale makes the server start a worker (o.Command) whenever a task
// reaches o.TaskQueue and no worker polls it: it creates (or updates) the
// deployment version with a subprocess compute config, waits until the
// worker the server starts at once has registered the queue with the
// version, and makes the version current. Needs Options.WorkerController.
func (s *Server) AutoScale(ctx context.Context, o AutoScaleOptions) error {
	if !s.opts.WorkerController {
		return errors.New("the worker controller is off (Options.WorkerController)")
	}
	for _, v := range append(slices.Clone(o.Args), o.Env...) {
		if strings.Contains(v, ",") {
			return fmt.Errorf("auto-scaled worker argument %q: commas are not supported", v)
		}
	}
	details := map[string]string{subprocCommand: o.Command, subprocArgs: strings.Join(o.Args, ","),
		subprocEnv: strings.Join(o.Env, ","), subprocLog: o.LogFile, subprocOwner: s.frontend}
	if o.MaxLifetime > 0 {
		details[subprocTimeout] = o.MaxLifetime.String()
	}
	payload, err := converter.GetDefaultDataConverter().ToPayload(details)
	if err != nil {
		return err
	}
	group := &computepb.ComputeConfigScalingGroup{
		// Not a catch-all: its task types include Nexus, which vigil's
		// workers never poll, so the server would start a worker to
		// register the queue at every update.
		TaskQueueTypes: []enumspb.TaskQueueType{enumspb.TASK_QUEUE_TYPE_WORKFLOW, enumspb.TASK_QUEUE_TYPE_ACTIVITY},
		Provider:       &computepb.ComputeProvider{Type: SubprocessProvider, Details: payload},
		Scaler:         &computepb.ComputeScaler{Type: scalerNoSync},
	}
	c, err := s.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	ws := c.WorkflowService()
	ns, version := s.opts.Namespace, &deploymentpb.WorkerDeploymentVersion{DeploymentName: o.DeploymentName, BuildId: o.BuildID}
	_, err = ws.CreateWorkerDeployment(ctx, &workflowservice.CreateWorkerDeploymentRequest{Namespace: ns,
		DeploymentName: o.DeploymentName, Identity: autoScaleIdentity, RequestId: uuid.NewString()})
	if err != nil && !isAlreadyExists(err) {
		return fmt.Errorf("creating worker deployment %s: %w", o.DeploymentName, err)
	}
	_, err = ws.CreateWorkerDeploymentVersion(ctx, &workflowservice.CreateWorkerDeploymentVersionRequest{Namespace: ns,
		DeploymentVersion: version, Identity: autoScaleIdentity, RequestId: uuid.NewString(),
		ComputeConfig: &computepb.ComputeConfig{ScalingGroups: map[string]*computepb.ComputeConfigScalingGroup{autoScaleGroup: group}}})
	if isAlreadyExists(err) {
		// A restart: the command, its ports and its environment change.
		_, err = ws.UpdateWorkerDeploymentVersionComputeConfig(ctx, &workflowservice.UpdateWorkerDeploymentVersionComputeConfigRequest{
			Namespace: ns, DeploymentVersion: version, Identity: autoScaleIdentity, RequestId: uuid.NewString(),
			ComputeConfigScalingGroups: map[string]*computepb.ComputeConfigScalingGroupUpdate{autoScaleGroup: {ScalingGroup: group,
				// An empty mask would leave the group as it was.
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"provider", "scaler"}}}}})
	}
	if err != nil {
		return fmt.Errorf("setting the compute config of %s/%s: %w", o.DeploymentName, o.BuildID, err)
	}
	if err := waitRegistered(ctx, ws, ns, version, o.TaskQueue); err != nil {
		return err
	}
	_, err = ws.SetWorkerDeploymentCurrentVersion(ctx, &workflowservice.SetWorkerDeploymentCurrentVersionRequest{Namespace: ns,
		DeploymentName: o.DeploymentName, BuildId: o.BuildID, Identity: autoScaleIdentity})
	if err != nil {
		return fmt.Errorf("making %s/%s current: %w", o.DeploymentName, o.BuildID, err)
	}
	return nil
}

// waitRegistered waits until a worker of version has polled taskQueue's
// workflow tasks (the server registers the queue with the version then).
func waitRegistered(ctx context.Context, ws workflowservice.WorkflowServiceClient, ns string, version *deploymentpb.WorkerDeploymentVersion, taskQueue string) error {
	ctx, cancel := context.WithTimeout(ctx, registrationTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		d, err := ws.DescribeWorkerDeploymentVersion(ctx, &workflowservice.DescribeWorkerDeploymentVersionRequest{Namespace: ns, DeploymentVersion: version})
		if err == nil && slices.ContainsFunc(d.GetVersionTaskQueues(), func(q *workflowservice.DescribeWorkerDeploymentVersionResponse_VersionTaskQueue) bool {
			return q.GetName() == taskQueue && q.GetType() == enumspb.TASK_QUEUE_TYPE_WORKFLOW
		}) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no worker of %s/%s registered task queue %s within %s (see the worker log; last error: %v)",
				version.GetDeploymentName(), version.GetBuildId(), taskQueue, registrationTimeout, err)
		case <-tick.C:
		}
	}
}

func isAlreadyExists(err error) bool {
	var ae *serviceerror.AlreadyExists
	return errors.As(err, &ae)
}

// Workers are the process IDs of the subprocess workers this server
// started that are still running.
func (s *Server) Workers() []int { return children.pids(s.frontend) }

// StopWorkers stops the subprocess workers this server started (SIGTERM,
// then SIGKILL after a grace period) and waits for them.
func (s *Server) StopWorkers() { children.stop(s.frontend, workerStopGrace) }
