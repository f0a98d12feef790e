package flowdata

import "time"

// Bounds of a batch job's (and a pipeline's) retry policy and of a job's
// timeout, checked before a run starts (internal/specrules, the job
// readers) and clamped by the workflow: with them a job makes at most
// MaxJobAttempts attempts, about 13 history events each, so its history
// stays below about 1,400 events whatever the file says.
const (
	// MaxJobAttempts caps retry.maximumAttempts.
	MaxJobAttempts = 100
	// MinRetryInterval is the floor of retry.initialInterval and
	// retry.maximumInterval.
	MinRetryInterval = time.Second
	// MaxJobTimeout caps a job's timeout (all attempts).
	MaxJobTimeout = 7 * 24 * time.Hour
)
