package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"

	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/benchkit"
	"github.com/vigilops/vigil/internal/localcloud"
)

// Scenario is one benchmark: it measures a vigil flow and, in the same
// run, a baseline doing the bare minimum of the same work. Each scenario is
// one file that calls register in an init function.
type Scenario interface {
	// Name is the --only name, lower-case with dashes (glacier-notify).
	Name() string
	// Title is the heading in the table and in BENCHMARKS.md.
	Title() string
	// Describe says what is measured and against what, for BENCHMARKS.md.
	Describe() string
	// Run measures once; the runner calls it --repeat times (env.Round
	// counts from 0) and pools the samples of equally named measures.
	// Everything it starts must be stopped through env.Defer.
	Run(env *Env) ([]Measure, error)
}

// Measure is one figure of a scenario: vigil's samples and, if there is
// one, the baseline's samples in the same unit.
type Measure struct {
	// Name of the figure, e.g. "notification → first download request".
	Name string
	// Unit of the samples: ms, MiB/s, jobs/s, MiB, % CPU.
	Unit string
	// HigherIsBetter is true for rates.
	HigherIsBetter bool
	// Vigil are vigil's samples.
	Vigil []float64
	// BaselineName says what the baseline is; empty when there is none.
	BaselineName string
	// Baseline are the baseline's samples.
	Baseline []float64
	// Goal is the goal, as text (may be empty).
	Goal string
}

var (
	registryMu sync.Mutex
	registry   []Scenario
)

// register adds a scenario; names must be unique.
func register(s Scenario) {
	registryMu.Lock()
	defer registryMu.Unlock()
	for _, o := range registry {
		if o.Name() == s.Name() {
			panic("bench: scenario " + s.Name() + " registered twice")
		}
	}
	registry = append(registry, s)
}

// scenarios returns the registered scenarios in a stable order (by name).
func scenarios() []Scenario {
	registryMu.Lock()
	defer registryMu.Unlock()
	out := append([]Scenario(nil), registry...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// Env is what a scenario runs with: the shared Temporal server, the size
// mode, a scratch directory and cleanups for what it starts.
type Env struct {
	// Ctx ends when the run is interrupted.
	Ctx context.Context
	// Server is the embedded Temporal server, shared by all scenarios.
	Server *benchkit.Server
	// Quick scales sizes down (CI).
	Quick bool
	// Round is this call's index among --repeat calls; Rounds their number.
	Round, Rounds int
	// Dir is a scratch directory (removed at the end).
	Dir string
	// Log prints progress to stderr.
	Log *slog.Logger

	bins     *binCache
	cleanups []func()
}

// Defer runs f when the current Run returns (last in, first out).
func (e *Env) Defer(f func()) { e.cleanups = append(e.cleanups, f) }

func (e *Env) cleanup() {
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		e.cleanups[i]()
	}
	e.cleanups = nil
}

// Cloud starts a local cloud (free port, state under Dir) stopped at the
// end of the Run, and returns SDK clients on it.
func (e *Env) Cloud(opts localcloud.Options) (*localcloud.Cloud, *awsconf.Clients, error) {
	opts.Addr = "127.0.0.1:0"
	if opts.DataDir == "" {
		d, err := os.MkdirTemp(e.Dir, "cloud-")
		if err != nil {
			return nil, nil, err
		}
		opts.DataDir = d
		e.Defer(func() { _ = os.RemoveAll(d) })
	}
	c, err := localcloud.Start(opts)
	if err != nil {
		return nil, nil, err
	}
	e.Defer(func() { _ = c.Close() })
	return c, awsconf.NewClients(awsconf.Local(c.URL())), nil
}

// Worker starts an in-process worker with the real registrations (see
// benchkit.StartWorker), stopped at the end of the Run.
func (e *Env) Worker(clients *awsconf.Clients, opts benchkit.WorkerOptions) error {
	stop, err := benchkit.StartWorker(e.Ctx, e.Server.Client, clients, opts)
	if err != nil {
		return err
	}
	e.Defer(stop)
	return nil
}

// WorkerProcess builds (once per tags) and starts the worker binary against
// the server and cloudURL, stopped at the end of the Run, and waits until it
// polls.
func (e *Env) WorkerProcess(tags, cloudURL string, env []string) (*benchkit.WorkerProcess, error) {
	bin, err := e.bins.get(e.Dir, tags)
	if err != nil {
		return nil, err
	}
	p, err := benchkit.StartWorkerProcess(bin, e.Server.Dev.FrontendAddr(), e.Server.Dev.Namespace(), cloudURL, env, os.Stderr)
	if err != nil {
		return nil, err
	}
	e.Defer(p.Stop)
	if err := benchkit.WaitForPoller(e.Ctx, e.Server.Client, p.Cmd.Process.Pid); err != nil {
		return nil, err
	}
	return p, nil
}

// binCache builds each worker flavour once per command run.
type binCache struct {
	mu   sync.Mutex
	bins map[string]string
}

func (c *binCache) get(dir, tags string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b, ok := c.bins[tags]; ok {
		return b, nil
	}
	b, err := benchkit.BuildWorker(dir, tags)
	if err != nil {
		return "", err
	}
	if c.bins == nil {
		c.bins = map[string]string{}
	}
	c.bins[tags] = b
	return b, nil
}

// pick returns quick when the run is --quick, full otherwise.
func (e *Env) pick(full, quick int) int {
	if e.Quick {
		return quick
	}
	return full
}

// share is this round's share of a total count spread over the rounds.
func (e *Env) share(total int) int {
	return max(1, (total+e.Rounds-1)/e.Rounds)
}

// errorf wraps a scenario error with its step.
func errorf(step string, err error) error { return fmt.Errorf("%s: %w", step, err) }
