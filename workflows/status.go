package workflows

import "time"

// Phase names shared by the flows' status queries.
const (
	PhaseStarting    = "starting"
	PhaseInitiating  = "initiating"
	PhaseWaiting     = "waiting"
	PhaseRunning     = "running"
	PhaseDownloading = "downloading"
	PhaseUploading   = "uploading"
	PhaseReporting   = "reporting"
	PhaseDone        = "done"
	PhaseFailed      = "failed"
)

// Status is what every vigil workflow returns from its StatusQuery. Fields a
// flow does not use stay at their zero value and are not rendered.
type Status struct {
	// Flow is the flow name (same as the VigilFlow search attribute).
	Flow string `json:"flow"`
	// Target is what the run acts on (same as VigilTarget).
	Target string `json:"target,omitempty"`
	// Phase is the current step, one of the Phase* constants.
	Phase string `json:"phase"`
	// Since is when the current phase began (workflow time).
	Since time.Time `json:"since,omitzero"`
	// Started is when the run began (workflow time).
	Started time.Time `json:"started,omitzero"`
	// BytesDone and BytesTotal report transfer progress.
	BytesDone  int64 `json:"bytesDone,omitempty"`
	BytesTotal int64 `json:"bytesTotal,omitempty"`
	// Attempt is the current attempt of the main activity, when it retries.
	Attempt int `json:"attempt,omitempty"`
	// LastPoll describes the latest poll of an external system.
	LastPoll string `json:"lastPoll,omitempty"`
	// LastError is the latest error seen (the run may still recover).
	LastError string `json:"lastError,omitempty"`
	// Message is a short human-readable note on what is going on.
	Message string `json:"message,omitempty"`
	// Details carries flow-specific key/value facts (job id, expiry, ...).
	Details map[string]string `json:"details,omitempty"`
	// Waiting says what a run in PhaseWaiting waits for (nil otherwise).
	Waiting *WaitInfo `json:"waiting,omitempty"`
}

// WaitInfo describes a wait: what for, the next look and the deadline.
type WaitInfo struct {
	// For names what the run waits for ("notification of Glacier job …").
	For string `json:"for"`
	// Next is when the run looks next (a poll, an attempt, a check).
	Next time.Time `json:"next,omitzero"`
	// NextIs names what happens at Next ("poll", "attempt 3", "check").
	NextIs string `json:"nextIs,omitempty"`
	// Deadline is when the wait gives up (zero: none).
	Deadline time.Time `json:"deadline,omitzero"`
	// Typical is how long such a wait usually takes ("Bulk tier: typically 5-12 hours").
	Typical string `json:"typical,omitempty"`
}
