package main

import (
	"strings"
	"testing"
	"time"

	"github.com/vigilops/vigil/internal/cli"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// --host-wait is refused (exit 2) when negative or past
// flowdata.MaxHostWait: an unbounded wait used to be accepted (2,000 h
// would have passed Temporal's history limit).
func TestHostWaitFlagBounds(t *testing.T) {
	for _, tc := range []struct {
		wait time.Duration
		ok   bool
	}{{0, true}, {24 * time.Hour, true}, {flowdata.MaxHostWait, true}, {flowdata.MaxHostWait + time.Minute, false}, {2000 * time.Hour, false}, {-time.Hour, false}} {
		got, err := (&hostFlags{wait: tc.wait}).hostWait()
		if tc.ok && (err != nil || got.D() != tc.wait) {
			t.Errorf("--host-wait %s: %v, %s; want accepted", tc.wait, err, got)
		}
		if !tc.ok && (cli.ExitCode(err) != 2 || !strings.Contains(err.Error(), "--host-wait")) {
			t.Errorf("--host-wait %s: %v; want a usage error (exit 2)", tc.wait, err)
		}
	}
}
