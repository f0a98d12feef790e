package main

import (
	"time"

	"github.com/vigilops/vigil/internal/cli"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// checkWaitFlags checks a waiting verb's --deadline (at most
// flowdata.MaxWaitDeadline) and --poll-interval (0 or at least
// flowdata.MinPollInterval; 0 for verbs without the flag) before anything
// starts: a usage error, exit 2.
func checkWaitFlags(deadline, poll time.Duration) error {
	switch {
	case deadline > flowdata.MaxWaitDeadline:
		return cli.Usagef("--deadline %s: want at most %s (30 days)", deadline, flowdata.MaxWaitDeadline)
	case poll < 0 || (poll > 0 && poll < flowdata.MinPollInterval):
		return cli.Usagef("--poll-interval %s: want 0 (adapted) or at least %s", poll, flowdata.MinPollInterval)
	}
	return nil
}

// Help text of the wait bounds, appended to the flags' usage.
const (
	deadlineMaxHelp = " (at most 720h, 30 days)"
	pollFloorHelp   = "; at least 1m, and the wait continues as new every 100 polls"
)
