package activities

import (
	"bytes"
	"fmt"
	"text/template"
	"time"
)

// Error types of batch jobs.
const (
	// ErrTypeUnexpectedStatus: an HTTP job got a status it does not expect
	// (retryable).
	ErrTypeUnexpectedStatus = "UnexpectedStatus"
	// ErrTypeNonRetryableStatus: an HTTP job got a status listed as
	// non-retryable.
	ErrTypeNonRetryableStatus = "NonRetryableStatus"
	// ErrTypeExitStatus: an exec job's command exited non-zero (retryable).
	ErrTypeExitStatus = "ExitStatus"
)

// OutputLimit is how much of a job's output (HTTP body, command output) is
// kept in its result: the last 64 KiB.
const OutputLimit = 64 << 10

// JobContext is what job templates can use: {{.ScheduledTime}}, {{.RunID}},
// {{.WorkflowID}}, {{.JobName}}, {{.Attempt}}.
type JobContext struct {
	// ScheduledTime is the schedule's nominal time, or the start time of an
	// unscheduled run.
	ScheduledTime time.Time `json:"scheduledTime"`
	// RunID and WorkflowID identify the run.
	RunID      string `json:"runId"`
	WorkflowID string `json:"workflowId"`
	// JobName is the job spec's name.
	JobName string `json:"jobName"`
	// ScheduleID is the schedule that started the run, if any.
	ScheduleID string `json:"scheduleId,omitempty"`
	// Attempt is 1 for the first attempt.
	Attempt int `json:"attempt"`
}

// JobOutput is the result of one job attempt.
type JobOutput struct {
	// StatusCode is the HTTP status (http jobs).
	StatusCode int `json:"statusCode,omitempty"`
	// ExitCode is the command's exit code (exec jobs).
	ExitCode int `json:"exitCode"`
	// Output is the tail (OutputLimit) of the response body or the command's
	// combined stdout and stderr.
	Output string `json:"output,omitempty"`
	// Truncated tells whether Output lost its beginning.
	Truncated bool `json:"truncated,omitempty"`
	// Summary is one line for the CLI and alerts.
	Summary string `json:"summary"`
}

// Render expands a job template against jc. Templates are checked by the
// starter, so an error here is a bad input.
func Render(name, text string, jc JobContext) (string, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return "", BadInput("template %s: %v", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, jc); err != nil {
		return "", BadInput("template %s: %v", name, err)
	}
	return b.String(), nil
}

// tailBuffer keeps the last limit bytes written to it.
type tailBuffer struct {
	limit     int
	buf       []byte
	total     int64
	truncated bool
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.total += int64(len(p))
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.limit; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
		t.truncated = true
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.buf) }

// FirstLine is the first line of s, cut to max bytes (with "…" when cut):
// the one-line form of an output or error for summaries and failure
// messages.
func FirstLine(s string, max int) string {
	if i := bytes.IndexByte([]byte(s), '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

func statusSummary(code int, body string) string {
	if b := FirstLine(body, 120); b != "" {
		return fmt.Sprintf("HTTP %d: %s", code, b)
	}
	return fmt.Sprintf("HTTP %d", code)
}
