package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/vigilops/vigil/internal/benchkit"
)

// options are the command's flags.
type options struct {
	only   string
	quick  bool
	write  bool
	repeat int
	dir    string
	file   string
}

func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.only, "only", "", "run only this scenario (comma-separated list allowed): "+strings.Join(names(), ", "))
	fs.BoolVar(&o.quick, "quick", false, "scale sizes and counts down (CI: checks that every scenario completes)")
	fs.BoolVar(&o.write, "write", false, "rewrite the scenarios' sections of BENCHMARKS.md (default: print only)")
	fs.IntVar(&o.repeat, "repeat", 3, "times each scenario is run; samples are pooled")
	fs.StringVar(&o.dir, "dir", "", "scratch directory for downloads and state (default: a new one under $TMPDIR; /dev/shm measures without the disk)")
	fs.StringVar(&o.file, "file", "BENCHMARKS.md", "file --write rewrites")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.repeat < 1 {
		return o, fmt.Errorf("--repeat %d: want at least 1", o.repeat)
	}
	return o, nil
}

func names() []string {
	var out []string
	for _, s := range scenarios() {
		out = append(out, s.Name())
	}
	return out
}

// selected returns the scenarios --only names (all when empty).
func selected(only string) ([]Scenario, error) {
	all := scenarios()
	if only == "" {
		return all, nil
	}
	var out []Scenario
	for _, n := range strings.Split(only, ",") {
		found := false
		for _, s := range all {
			if s.Name() == strings.TrimSpace(n) {
				out = append(out, s)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("--only %q: no such scenario (have %s)", n, strings.Join(names(), ", "))
		}
	}
	return out, nil
}

// outcome is one scenario's pooled measures, or its error.
type outcome struct {
	scenario Scenario
	measures []Measure
	err      error
	took     time.Duration
}

func run(ctx context.Context, args []string) int {
	o, err := parseFlags(args, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	sel, err := selected(o.only)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	outs, mach, err := runScenarios(ctx, o, sel, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	printTable(os.Stdout, mach, outs)
	failed := 0
	for _, out := range outs {
		if out.err != nil {
			failed++
		}
	}
	if o.write {
		if err := writeReport(o.file, mach, outs, o); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "bench: rewrote %s\n", o.file)
	}
	if failed > 0 {
		return 1
	}
	return 0
}

// runScenarios starts the server, runs each scenario o.repeat times and
// pools the samples. A failing scenario is reported in its outcome; the
// others still run.
func runScenarios(ctx context.Context, o options, sel []Scenario, log *slog.Logger) ([]outcome, machine, error) {
	dir := o.dir
	var err error
	if dir == "" {
		dir, err = os.MkdirTemp("", "vigil-bench-")
	} else {
		dir, err = os.MkdirTemp(dir, "vigil-bench-")
	}
	if err != nil {
		return nil, machine{}, err
	}
	defer os.RemoveAll(dir)
	srv, err := benchkit.StartServer(ctx, nil)
	if err != nil {
		return nil, machine{}, fmt.Errorf("starting the Temporal server: %w", err)
	}
	defer srv.Close()
	mach := describeMachine(o)
	bins := &binCache{}
	var outs []outcome
	for _, s := range sel {
		start := time.Now()
		out := outcome{scenario: s}
		for round := 0; round < o.repeat && out.err == nil; round++ {
			log.Info("running", "scenario", s.Name(), "round", round+1, "of", o.repeat)
			env := &Env{Ctx: ctx, Server: srv, Quick: o.quick, Round: round, Rounds: o.repeat, Dir: dir, Log: log, bins: bins}
			ms, err := s.Run(env)
			env.cleanup()
			if err != nil {
				out.err = err
				break
			}
			out.measures = pool(out.measures, ms)
		}
		out.took = time.Since(start)
		if out.err != nil {
			log.Error("scenario failed", "scenario", s.Name(), "error", out.err)
		}
		outs = append(outs, out)
		if ctx.Err() != nil {
			return outs, mach, ctx.Err()
		}
	}
	return outs, mach, nil
}

// pool appends the samples of ms to the equally named measures of acc.
func pool(acc, ms []Measure) []Measure {
	for _, m := range ms {
		found := false
		for i := range acc {
			if acc[i].Name == m.Name {
				acc[i].Vigil = append(acc[i].Vigil, m.Vigil...)
				acc[i].Baseline = append(acc[i].Baseline, m.Baseline...)
				found = true
			}
		}
		if !found {
			acc = append(acc, m)
		}
	}
	return acc
}
