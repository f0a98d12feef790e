package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/workflow"
)

// publish shows the status in the Web UI's "current details" of the run
// (workflow.SetCurrentDetails, no history event): phase, since when, bytes,
// attempt, last poll, message, last error, as `starter status` shows them.
func (t *Tracker) publish() {
	workflow.SetCurrentDetails(t.ctx, t.st.CurrentDetails())
}

// CurrentDetails is the status as one short Markdown paragraph.
func (s Status) CurrentDetails() string {
	parts := []string{fmt.Sprintf("**%s** since %s", s.Phase, s.Since.UTC().Format("2006-01-02 15:04:05Z"))}
	if s.BytesTotal > 0 {
		parts = append(parts, fmt.Sprintf("%s of %s", detailsMiB(s.BytesDone), detailsMiB(s.BytesTotal)))
	} else if s.BytesDone > 0 {
		parts = append(parts, detailsMiB(s.BytesDone))
	}
	if s.Attempt > 1 {
		parts = append(parts, fmt.Sprintf("attempt %d", s.Attempt))
	}
	if s.LastPoll != "" {
		parts = append(parts, "last poll: "+s.LastPoll)
	}
	if s.Message != "" {
		parts = append(parts, s.Message)
	}
	if s.LastError != "" {
		parts = append(parts, "error: "+s.LastError)
	}
	return strings.Join(parts, " · ")
}

func detailsMiB(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
