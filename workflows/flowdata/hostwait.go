package flowdata

import (
	"fmt"
	"time"
)

// MaxHostWait is the longest a run waits for the worker of the host it is
// pinned to (hostWait, --host-wait), checked before a run starts by the
// starter and by the catalog's and job files' readers, and clamped by the
// workflows. Such a wait re-schedules its activity at most once an hour,
// so its history stays below about 1,100 events.
const MaxHostWait = 7 * 24 * time.Hour

// CheckHostWait checks a host-wait limit: 0 (the default, 24 h) or
// positive and at most MaxHostWait.
func CheckHostWait(d Duration) error {
	if d < 0 || d.D() > MaxHostWait {
		return fmt.Errorf("host wait %s: want 0 (24h) or up to %s (7 days)", d, MaxHostWait)
	}
	return nil
}
