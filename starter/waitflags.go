package main

import (
	"time"

	"github.com/vigilops/vigil/internal/catalog"
	"github.com/vigilops/vigil/internal/cli"
)

// checkWaitFlags checks a waiting verb's --deadline (at most
// flowdata.MaxWaitDeadline) and --poll-interval (0 or at least
// flowdata.MinPollInterval; 0 for verbs without the flag) before anything
// starts: a usage error, exit 2.
func checkWaitFlags(deadline, poll time.Duration) error {
	if err := catalog.CheckWait(deadline, poll, catalog.Flag); err != nil {
		return cli.Usagef("%v", err)
	}
	return nil
}

// Help text of the wait bounds, appended to the flags' usage.
const (
	deadlineMaxHelp = " (at most 720h, 30 days)"
	pollFloorHelp   = "; at least 1m, and the wait continues as new every 100 polls"
)
