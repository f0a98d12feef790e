package main

import (
	"fmt"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/benchkit"
	"github.com/vigilops/vigil/internal/detdata"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/setup"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

func init() { register(glacierNotify{}) }

// glacierNotify: Glacier job completion → first GetJobOutput, against a
// bare signal → activity on the same server.
type glacierNotify struct{}

func (glacierNotify) Name() string  { return "glacier-notify" }
func (glacierNotify) Title() string { return "Glacier notification → download" }
func (glacierNotify) Describe() string {
	return "Sequential retrievals of 64 KiB archives (100 in all, quick: 5) with polling set to an hour, so only the " +
		"notification can start the download: the emulator completes the job and publishes to SNS → SQS → the worker's " +
		"router → signal → workflow task → PrepareDestination → DownloadRange → first GetJobOutput received by the " +
		"emulator. Baseline: a bare workflow waiting for a signal, then running one activity; measured from the " +
		"SignalWorkflow call to the activity's start."
}

func (glacierNotify) Run(env *Env) ([]Measure, error) {
	watch := benchkit.NewOutputWatch()
	cloud, clients, err := env.Cloud(localcloud.Options{TierDelays: map[string]time.Duration{"Expedited": 50 * time.Millisecond}, Wrap: watch.Wrap})
	if err != nil {
		return nil, errorf("local cloud", err)
	}
	rec := newRecorder()
	if err := env.Worker(clients, benchkit.WorkerOptions{Router: true, Override: rec.register}); err != nil {
		return nil, errorf("worker", err)
	}
	const vault = "bench"
	if err := cloud.Glacier.CreateVault(vault); err != nil {
		return nil, errorf("vault", err)
	}
	if _, err := setup.Glacier(env.Ctx, clients, setup.GlacierOptions{Vault: vault}); err != nil {
		return nil, errorf("setup glacier", err)
	}
	n := env.share(env.pick(100, 5))
	var vig, base []float64
	c := env.Server.Client
	for i := 0; i < n; i++ {
		archive, _, err := cloud.Glacier.PutArchive(vault, detdata.New(uint64(i), 64<<10), fmt.Sprint("bench ", i))
		if err != nil {
			return nil, errorf("archive", err)
		}
		run, err := c.ExecuteWorkflow(env.Ctx, client.StartWorkflowOptions{ID: workflows.GlacierWorkflowID(vault, archive), TaskQueue: workflows.TaskQueue},
			workflows.GlacierRetrieveWorkflow, workflows.GlacierRetrieveInput{Vault: vault, ArchiveID: archive, Tier: "Expedited",
				Destination: "file://" + filepath.Join(env.Dir, fmt.Sprintf("notify-%d-%d", env.Round, i)), PollInterval: flowdata.Duration(time.Hour)})
		if err != nil {
			return nil, errorf("start retrieval", err)
		}
		var res workflows.GlacierRetrieveResult
		if err := run.Get(env.Ctx, &res); err != nil {
			return nil, errorf("retrieval", err)
		}
		done, err := benchkit.JobCompleted(env.Ctx, clients, vault, res.JobID)
		if err != nil {
			return nil, errorf("describe job", err)
		}
		first, ok := watch.First(res.JobID)
		if !ok {
			return nil, fmt.Errorf("no GetJobOutput seen for job %s", res.JobID)
		}
		vig = append(vig, ms(first.Sub(done)))

		id := fmt.Sprintf("bench-signal-%d-%d-%d", time.Now().UnixNano(), env.Round, i)
		brun, err := c.ExecuteWorkflow(env.Ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue}, signalWorkflowName)
		if err != nil {
			return nil, errorf("start bare", err)
		}
		if err := awaitIdle(env, id); err != nil {
			return nil, errorf("bare workflow waiting", err)
		}
		sent := time.Now()
		if err := c.SignalWorkflow(env.Ctx, id, "", goSignal, nil); err != nil {
			return nil, errorf("signal bare", err)
		}
		if err := brun.Get(env.Ctx, nil); err != nil {
			return nil, errorf("bare", err)
		}
		for _, m := range rec.snapshot() {
			if m.WorkflowID == id {
				base = append(base, ms(m.At.Sub(sent)))
			}
		}
	}
	return []Measure{{Name: "notification → first download request", Unit: "ms", Vigil: vig,
		BaselineName: "bare signal → activity start", Baseline: base, Goal: "p99 ≤ 100 ms"}}, nil
}

// awaitIdle waits until the workflow's first workflow task has completed
// (started, task scheduled, started, completed: 4 events), so that the
// signal finds it blocked, as vigil's retrieval is when the job completes.
func awaitIdle(env *Env, id string) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		d, err := env.Server.Client.DescribeWorkflowExecution(env.Ctx, id, "")
		if err != nil {
			return err
		}
		if d.GetWorkflowExecutionInfo().GetHistoryLength() >= 4 {
			return nil
		}
		select {
		case <-env.Ctx.Done():
			return env.Ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return fmt.Errorf("workflow %s not idle after a minute", id)
}
