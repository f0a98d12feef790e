package main

import (
	"time"

	"github.com/vigilops/vigil/internal/benchkit"
	"github.com/vigilops/vigil/internal/localcloud"
)

func init() { register(idleWorker{}) }

// idleWorker: RSS and CPU of an idle worker process, lean and default
// builds.
type idleWorker struct{}

func (idleWorker) Name() string  { return "idle-worker" }
func (idleWorker) Title() string { return "Idle worker" }
func (idleWorker) Describe() string {
	return "A separately started worker process (lean `-tags nodev` build, then the default build that embeds the dev " +
		"stack) connected to the server and the local cloud, no schedules, empty task and notification queues: " +
		"RSS (VmRSS) at the end and CPU used over 60 s in all rounds (quick: 5 s), measured after it starts polling and settles for 2 s. Quick mode measures the lean build only."
}

func (idleWorker) Run(env *Env) ([]Measure, error) {
	cloud, _, err := env.Cloud(localcloud.Options{})
	if err != nil {
		return nil, errorf("local cloud", err)
	}
	window := time.Duration(env.share(env.pick(60, 5))) * time.Second
	var out []Measure
	builds := []struct{ tags, name string }{{"nodev", "lean build"}, {"", "default build"}}
	if env.Quick {
		builds = builds[:1] // linking the 225 MB default binary is most of a quick run
	}
	for _, b := range builds {
		p, err := env.WorkerProcess(b.tags, cloud.URL(), nil)
		if err != nil {
			return nil, errorf("worker process "+b.name, err)
		}
		if err := sleep(env, 2*time.Second); err != nil {
			return nil, err
		}
		pid := p.Cmd.Process.Pid
		cpu0, err := benchkit.ProcCPU(pid)
		if err != nil {
			return nil, err
		}
		start := time.Now()
		if err := sleep(env, window); err != nil {
			return nil, err
		}
		cpu1, err := benchkit.ProcCPU(pid)
		if err != nil {
			return nil, err
		}
		rss, err := p.StatusKiB("VmRSS")
		if err != nil {
			return nil, err
		}
		p.Stop()
		out = append(out,
			Measure{Name: "idle RSS, " + b.name, Unit: "MiB", Vigil: []float64{float64(rss) / 1024}},
			Measure{Name: "idle CPU, " + b.name, Unit: "% of a core", Vigil: []float64{100 * (cpu1 - cpu0).Seconds() / time.Since(start).Seconds()}})
	}
	return out, nil
}

// sleep waits d (measuring a window is the point here) unless the run is
// interrupted.
func sleep(env *Env, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-env.Ctx.Done():
		return env.Ctx.Err()
	}
}
