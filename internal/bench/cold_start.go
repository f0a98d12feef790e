package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/devserver"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/rollout"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

func init() { register(coldStart{}) }

// coldStart: scheduled time → job activity start on a queue whose worker
// the server starts on demand (scale from zero), next to the same worker
// already running.
type coldStart struct{}

const (
	coldQueue      = "bench-cold"
	coldDeployment = "bench-cold"
	// coldIdle is the cold worker's --exit-when-idle: it is gone before the
	// next firing.
	coldIdle = "1s"
	// warmIdle keeps the warm worker up through the warm phase.
	warmIdle = "10m"
)

func (coldStart) Name() string  { return "cold-start" }
func (coldStart) Title() string { return "Cold start (scale from zero)" }
func (coldStart) Describe() string {
	return "The embedded server's worker controller (as `worker --dev`) starts the lean worker binary as a subprocess " +
		"(--exit-when-idle " + coldIdle + ") when a task reaches its queue and no worker polls it. A paused schedule's " +
		"BatchJob (s3-put to the local cloud) is triggered ⌈10 / rounds⌉ times a round (quick: 1), each time with no worker process " +
		"left: its scheduled time → start of the job activity (ActivityTaskStarted of PutJobObject in the history, both " +
		"server clocks). Baseline: the same firings while the worker the controller started stays up (warm)."
}

func (coldStart) Run(env *Env) ([]Measure, error) {
	cloud, clients, err := env.Cloud(localcloud.Options{})
	if err != nil {
		return nil, errorf("local cloud", err)
	}
	const bucket = "cold"
	if _, err := clients.S3.CreateBucket(env.Ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return nil, errorf("bucket", err)
	}
	bin, err := env.bins.get(env.Dir, "nodev")
	if err != nil {
		return nil, errorf("worker binary", err)
	}
	dev := env.Server.Dev
	env.Defer(dev.StopWorkers)
	autoScale := func(idle string) error {
		return dev.AutoScale(env.Ctx, devserver.AutoScaleOptions{DeploymentName: coldDeployment, BuildID: "b1", TaskQueue: coldQueue,
			Command: bin, Args: []string{"--address", dev.FrontendAddr(), "--namespace", dev.Namespace(), "--task-queue", coldQueue,
				"--flows", workflows.BatchFlow, "--exit-when-idle", idle, "--host", "bench-cold", "--log-level", "warn"},
			Env: []string{"AWS_ENDPOINT_URL=" + cloud.URL(), "AWS_REGION=" + awsconf.LocalRegion, "AWS_ACCESS_KEY_ID=" + awsconf.LocalAccessKey,
				"AWS_SECRET_ACCESS_KEY=" + awsconf.LocalSecretKey, rollout.DeploymentNameEnv + "=" + coldDeployment, rollout.BuildIDEnv + "=b1"}})
	}
	if err := autoScale(coldIdle); err != nil {
		return nil, errorf("auto-scaled queue", err)
	}
	// A worker the controller started late for the previous round's warm
	// phase would stay up for warmIdle.
	dev.StopWorkers()
	job := workflows.BatchJobInput{Job: flowdata.BatchJob{Name: "cold", Kind: flowdata.JobKindS3Put,
		S3Put: &flowdata.S3PutJob{Bucket: bucket, Key: "k", Content: "x"}, TaskQueue: coldQueue}}
	id := fmt.Sprintf("bench-cold-%d", time.Now().UnixNano())
	h, err := env.Server.Client.ScheduleClient().Create(env.Ctx, client.ScheduleOptions{ID: id, Paused: true,
		Spec:   client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: time.Hour}}},
		Action: &client.ScheduleWorkflowAction{ID: id, Workflow: workflows.BatchJobName, Args: []any{job}, TaskQueue: coldQueue}})
	if err != nil {
		return nil, errorf("schedule", err)
	}
	defer func() { _ = h.Delete(env.Ctx) }()
	n := env.share(env.pick(10, 2))

	var cold, warm []float64
	for range n {
		if err := waitNoWorkers(env, dev); err != nil {
			return nil, errorf("cold phase", err)
		}
		lag, err := fireOnce(env, h)
		if err != nil {
			return nil, errorf("cold firing", err)
		}
		cold = append(cold, lag)
	}
	if err := autoScale(warmIdle); err != nil {
		return nil, errorf("warm worker", err)
	}
	if err := waitNoWorkers(env, dev); err != nil { // the cold one
		return nil, errorf("warm phase", err)
	}
	if _, err := fireOnce(env, h); err != nil { // starts the warm worker
		return nil, errorf("warming firing", err)
	}
	for range n {
		lag, err := fireOnce(env, h)
		if err != nil {
			return nil, errorf("warm firing", err)
		}
		warm = append(warm, lag)
	}
	if len(dev.Workers()) == 0 {
		return nil, errors.New("no worker left running during the warm phase")
	}
	dev.StopWorkers()
	return []Measure{{Name: "scheduled time → job activity start", Unit: "ms", Vigil: cold,
		BaselineName: "worker already running (warm)", Baseline: warm}}, nil
}

// waitNoWorkers waits until the subprocess workers have exited (idle).
func waitNoWorkers(env *Env, dev *devserver.Server) error {
	deadline := time.Now().Add(time.Minute)
	for len(dev.Workers()) > 0 {
		if time.Now().After(deadline) {
			return errors.New("subprocess workers still running after a minute")
		}
		if err := sleep(env, 20*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// fireOnce triggers the schedule, waits for the run and returns scheduled
// time → job activity start in ms.
func fireOnce(env *Env, h client.ScheduleHandle) (float64, error) {
	d, err := h.Describe(env.Ctx)
	if err != nil {
		return 0, err
	}
	before := d.Info.NumActions
	if err := h.Trigger(env.Ctx, client.ScheduleTriggerOptions{Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL}); err != nil {
		return 0, err
	}
	deadline := time.Now().Add(time.Minute)
	for d.Info.NumActions <= before {
		if time.Now().After(deadline) {
			return 0, errors.New("the trigger started no run within a minute")
		}
		if err := sleep(env, 10*time.Millisecond); err != nil {
			return 0, err
		}
		if d, err = h.Describe(env.Ctx); err != nil {
			return 0, err
		}
	}
	act := d.Info.RecentActions[len(d.Info.RecentActions)-1]
	c := env.Server.Client
	run := c.GetWorkflow(env.Ctx, act.StartWorkflowResult.WorkflowID, act.StartWorkflowResult.FirstExecutionRunID)
	if err := run.Get(env.Ctx, nil); err != nil {
		return 0, fmt.Errorf("run %s: %w", act.StartWorkflowResult.WorkflowID, err)
	}
	scheduled := map[int64]bool{}
	iter := c.GetWorkflowHistory(env.Ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			return 0, err
		}
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() == activities.PutJobObjectName {
			scheduled[ev.GetEventId()] = true
		}
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil && scheduled[a.GetScheduledEventId()] {
			return ms(ev.GetEventTime().AsTime().Sub(act.ScheduleTime)), nil
		}
	}
	return 0, fmt.Errorf("run %s: no %s activity started", run.GetID(), activities.PutJobObjectName)
}
