package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestQuick runs every registered scenario once in --quick mode and checks
// only that each completes with samples: the figures are for people, never
// asserted.
func TestQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every benchmark scenario (about a minute); -short skips it")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	outs, _, err := runScenarios(ctx, options{quick: true, repeat: 1, dir: t.TempDir()}, scenarios(), slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != len(scenarios()) {
		t.Fatalf("%d outcomes for %d scenarios", len(outs), len(scenarios()))
	}
	for _, out := range outs {
		if out.err != nil {
			t.Errorf("%s: %v", out.scenario.Name(), out.err)
			continue
		}
		if len(out.measures) == 0 {
			t.Errorf("%s: no measures", out.scenario.Name())
		}
		for _, m := range out.measures {
			if len(m.Vigil) == 0 || (m.BaselineName != "" && len(m.Baseline) == 0) {
				t.Errorf("%s / %s: %d vigil and %d baseline samples", out.scenario.Name(), m.Name, len(m.Vigil), len(m.Baseline))
			}
		}
		t.Logf("%s took %s", out.scenario.Name(), out.took.Round(time.Millisecond))
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// TestWriteReportKeepsProse checks that --write replaces only the owned
// block, and only the sub-blocks of the scenarios that ran.
func TestWriteReportKeepsProse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "B.md")
	prose := "# title\n\nintro\n\n## Hand-written\n\nkeep me\n"
	if err := os.WriteFile(path, []byte(prose), 0o644); err != nil {
		t.Fatal(err)
	}
	sc := scenarios()
	a, b := outcome{scenario: sc[0], measures: []Measure{{Name: "first figure", Unit: "ms", Vigil: []float64{1, 2, 3}}}},
		outcome{scenario: sc[1], measures: []Measure{{Name: "second figure", Unit: "ms", Vigil: []float64{4}}}}
	if err := writeReport(path, machine{}, []outcome{a, b}, options{}); err != nil {
		t.Fatal(err)
	}
	a.measures[0].Name = "first figure, again"
	if err := writeReport(path, machine{}, []outcome{a}, options{}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	text := string(got)
	for _, want := range []string{"intro", "## Hand-written\n\nkeep me", "first figure, again", "second figure", beginMarker, endMarker} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "| first figure |") || strings.Count(text, beginMarker) != 1 {
		t.Errorf("old sub-block or block kept twice:\n%s", text)
	}
	if strings.Index(text, beginMarker) > strings.Index(text, "## Hand-written") {
		t.Errorf("block not placed before the first section:\n%s", text)
	}
}
