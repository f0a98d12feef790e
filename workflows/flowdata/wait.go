package flowdata

import (
	"fmt"
	"time"
)

// Bounds of the polling waits (Glacier retrieval, S3 restore, Datastore
// operation), checked before a run starts: by the starter's flags and by
// the catalog when it reads a schedule's or pipeline's input. With them a
// wait polls at most about 43,200 times (30 days at one a minute), and
// its runs continue as new every few hundred events (see workflows/wait.go),
// so no history nears Temporal's limits.
const (
	// MinPollInterval is the floor of a fixed polling interval: Glacier's
	// and S3 restore's --poll-interval, and a Datastore poll policy's Max.
	MinPollInterval = time.Minute
	// MinDatastorePollInitial is the floor of a Datastore poll policy's
	// Initial interval (its default).
	MinDatastorePollInitial = 5 * time.Second
	// MaxDatastoreFastFor caps a Datastore poll policy's FastFor, the time
	// it polls every Initial.
	MaxDatastoreFastFor = time.Hour
	// MaxWaitDeadline is the longest deadline a waiting run accepts.
	MaxWaitDeadline = 30 * 24 * time.Hour
)

// CheckPollInterval checks a fixed polling interval: 0 (adapted to the
// tier) or at least MinPollInterval.
func CheckPollInterval(d Duration) error {
	if d < 0 || (d > 0 && d.D() < MinPollInterval) {
		return fmt.Errorf("poll interval %s: want 0 (adaptive) or at least %s", d, MinPollInterval)
	}
	return nil
}

// CheckDeadline checks a wait's deadline: 0 (the flow's default) or
// positive and at most MaxWaitDeadline.
func CheckDeadline(d Duration) error {
	if d < 0 || d.D() > MaxWaitDeadline {
		return fmt.Errorf("deadline %s: want more than 0 and at most %s (30 days)", d, Duration(MaxWaitDeadline))
	}
	return nil
}

// CheckBounds checks a Datastore poll policy against the floors: Initial
// 0 (5s) or at least MinDatastorePollInitial, Max 0 (60s) or at least
// MinPollInterval, FastFor at most MaxDatastoreFastFor.
func (p DatastorePollPolicy) CheckBounds() error {
	switch {
	case p.Initial != 0 && p.Initial.D() < MinDatastorePollInitial:
		return fmt.Errorf("poll initial %s: want at least %s", p.Initial, Duration(MinDatastorePollInitial))
	case p.Max != 0 && p.Max.D() < MinPollInterval:
		return fmt.Errorf("poll max %s: want at least %s", p.Max, Duration(MinPollInterval))
	case p.FastFor.D() > MaxDatastoreFastFor:
		return fmt.Errorf("poll fastFor %s: want at most %s", p.FastFor, Duration(MaxDatastoreFastFor))
	}
	return nil
}

// WaitResume is what a waiting run hands to the run it continues as new
// with (see workflows/wait.go): set only by vigil, never in a job file.
type WaitResume struct {
	// Started is when the first run began: the deadline and the elapsed
	// time count from it.
	Started time.Time `json:"started"`
	// Runs counts the runs continued as new so far.
	Runs int `json:"runs"`
	// Polls counts the polls of all runs.
	Polls int `json:"polls"`
	// Next is the interval to the next poll.
	Next Duration `json:"next"`
	// Status is the status the run showed (the status query's answer).
	Status WaitStatus `json:"status"`
}

// WaitStatus is the part of a run's status a continued run shows again.
type WaitStatus struct {
	LastPoll   string            `json:"lastPoll,omitempty"`
	LastError  string            `json:"lastError,omitempty"`
	Message    string            `json:"message,omitempty"`
	BytesDone  int64             `json:"bytesDone,omitempty"`
	BytesTotal int64             `json:"bytesTotal,omitempty"`
	Details    map[string]string `json:"details,omitempty"`
}

// DatastoreResume is what a Datastore run continued as new carries.
type DatastoreResume struct {
	WaitResume
	// RunID is the first run's ID: the operation's vigil-run label.
	RunID string `json:"runId"`
	// Op is the operation's latest snapshot.
	Op DatastoreOp `json:"op"`
}

// errResumeSet refuses a resume state in a user's input.
var errResumeSet = fmt.Errorf("resume: set by vigil when a run continues as new, not in an input")
