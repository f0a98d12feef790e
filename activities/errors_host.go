package activities

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
)

// ErrTypeHostUnavailable: no worker of the host a run is pinned to took its
// work within the run's host-wait limit; the run failed rather than
// delivering to another host.
const ErrTypeHostUnavailable = "HostUnavailable"

// HostUnavailable is the non-retryable error of a run that waited for host
// from since for limit without any worker of that host taking its work.
func HostUnavailable(host string, since time.Time, limit time.Duration) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
		"no worker of host %q took the work since %s (host-wait limit %s): start a worker with --host %s, or run again with another destination or a longer --host-wait",
		host, since.UTC().Format(HostWaitTimeFormat), limit, host), ErrTypeHostUnavailable, nil)
}

// HostWaitTimeFormat is how status messages and errors show the times of
// a wait for a host.
const HostWaitTimeFormat = "2006-01-02 15:04Z"
