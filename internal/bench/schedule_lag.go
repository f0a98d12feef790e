package main

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/benchkit"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

func init() { register(scheduleLag{}) }

// scheduleLag: scheduled time → job activity start, vigil's batch job
// against a bare one-activity workflow on the same schedules.
type scheduleLag struct{}

// Schedules fire every scheduleEvery, offset from each other so that
// firings spread over the interval (a 1 s interval measures the server's
// scheduler falling behind, not vigil).
const scheduleEvery = 2 * time.Second

func (scheduleLag) Name() string  { return "schedule-lag" }
func (scheduleLag) Title() string { return "Schedule lag" }
func (scheduleLag) Describe() string {
	return fmt.Sprintf("Scheduled time (the TemporalScheduledStartTime search attribute) → start of the job activity, "+
		"over ≥ 100 firings in all (quick: 8) of 10 schedules (quick: 4) every %s with staggered offsets, "+
		"starting vigil's BatchJob workflow (no-op s3-put job); baseline: the same schedules starting a bare workflow "+
		"that runs one activity with the time read from the same search attribute. The two phases run one after the other.", scheduleEvery)
}

func (scheduleLag) Run(env *Env) ([]Measure, error) {
	rec := newRecorder()
	_, clients, err := env.Cloud(localcloud.Options{})
	if err != nil {
		return nil, errorf("local cloud", err)
	}
	if err := env.Worker(clients, benchkit.WorkerOptions{Override: rec.register}); err != nil {
		return nil, errorf("worker", err)
	}
	schedules := env.pick(10, 4)
	firings := env.share(env.pick(100, 8))
	job := workflows.BatchJobInput{Job: flowdata.BatchJob{Name: "lag", Kind: flowdata.JobKindS3Put, S3Put: &flowdata.S3PutJob{Bucket: "lag", Key: "k", Content: "x"}}}
	var out [2][]float64
	for phase, vigil := range []bool{false, true} {
		action := &client.ScheduleWorkflowAction{Workflow: bareWorkflowName, TaskQueue: workflows.TaskQueue}
		if vigil {
			action = &client.ScheduleWorkflowAction{Workflow: workflows.BatchJobName, Args: []any{job}, TaskQueue: workflows.TaskQueue}
		}
		lags, err := fire(env, rec, vigil, schedules, firings, action)
		if err != nil {
			return nil, err
		}
		out[phase] = lags
	}
	return []Measure{{Name: "scheduled time → job activity start", Unit: "ms", Vigil: out[1],
		BaselineName: "bare workflow, same schedules", Baseline: out[0], Goal: "added p99 ≤ 20 ms"}}, nil
}

// fire creates the schedules, waits for firings marks of the given kind,
// deletes them and returns the lags in ms.
func fire(env *Env, rec *recorder, vigil bool, schedules, firings int, action *client.ScheduleWorkflowAction) ([]float64, error) {
	sc := env.Server.Client.ScheduleClient()
	prefix := fmt.Sprintf("bench-lag-%d-%v", time.Now().UnixNano(), vigil)
	var handles []client.ScheduleHandle
	defer func() {
		for _, h := range handles {
			_ = h.Delete(env.Ctx)
		}
	}()
	before := len(rec.snapshot())
	for i := 0; i < schedules; i++ {
		a := *action
		a.ID = fmt.Sprintf("%s-%d", prefix, i)
		h, err := sc.Create(env.Ctx, client.ScheduleOptions{ID: a.ID,
			Spec:   client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: scheduleEvery, Offset: scheduleEvery * time.Duration(i) / time.Duration(schedules)}}},
			Action: &a})
		if err != nil {
			return nil, errorf("creating schedule", err)
		}
		handles = append(handles, h)
	}
	count := func(all []mark) []mark {
		var got []mark
		for _, m := range all[before:] {
			if m.Vigil == vigil && !m.Scheduled.IsZero() {
				got = append(got, m)
			}
		}
		return got
	}
	within := time.Duration(firings/schedules+2)*scheduleEvery + time.Minute
	if !rec.wait(env.Ctx, within, func(all []mark) bool { return len(count(all)) >= firings }) {
		return nil, fmt.Errorf("only %d of %d firings within %s", len(count(rec.snapshot())), firings, within)
	}
	var lags []float64
	for _, m := range count(rec.snapshot())[:firings] {
		lags = append(lags, ms(m.At.Sub(m.Scheduled)))
	}
	return lags, nil
}
