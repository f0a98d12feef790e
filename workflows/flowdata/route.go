package flowdata

import (
	"fmt"
	"regexp"
)

var taskQueueRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// ValidateTaskQueue checks a `taskQueue:` value: 1-100 letters, digits,
// '.', '_' or '-' (no '@', which separates a host queue's host).
func ValidateTaskQueue(key, name string) error {
	if !taskQueueRE.MatchString(name) {
		return fmt.Errorf("%s %q: want 1-100 letters, digits, '.', '_' or '-'", key, name)
	}
	return nil
}

// RunTaskQueue is the queue an S3Object run goes to: its pipeline's
// taskQueue ("" for the default).
func (in S3ObjectInput) RunTaskQueue() string { return in.Pipeline.TaskQueue }
