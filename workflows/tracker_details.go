package workflows

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/internal/location"
)

// publish shows the status in the Web UI's "current details" of the run
// (workflow.SetCurrentDetails, no history event): phase, since when, what
// a wait waits for, bytes, attempt, last poll, message, last error and the
// flow's details, as `starter status` shows them.
func (t *Tracker) publish() {
	workflow.SetCurrentDetails(t.ctx, t.st.CurrentDetails())
}

// detailsTime is how the details show a time.
func detailsTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

// CurrentDetails is the status as Markdown: the phase and since when, then
// one list item per fact (URLs redacted).
func (s Status) CurrentDetails() string {
	var items []string
	item := func(name, value string) {
		items = append(items, "- **"+name+"**: "+strings.ReplaceAll(location.RedactText(value), "\n", " "))
	}
	if w := s.Waiting; w != nil {
		item("waiting for", w.For)
		if w.Typical != "" {
			item("typically", w.Typical)
		}
		if !w.Next.IsZero() {
			item("next "+orText(w.NextIs, "poll"), detailsTime(w.Next))
		}
		if !w.Deadline.IsZero() {
			item("deadline", detailsTime(w.Deadline))
		}
	}
	if s.BytesTotal > 0 {
		item("progress", fmt.Sprintf("%s of %s", detailsMiB(s.BytesDone), detailsMiB(s.BytesTotal)))
	} else if s.BytesDone > 0 {
		item("progress", detailsMiB(s.BytesDone))
	}
	if s.Attempt > 1 {
		item("attempt", fmt.Sprint(s.Attempt))
	}
	if s.LastPoll != "" {
		item("last poll", s.LastPoll)
	}
	if s.Message != "" {
		item("note", s.Message)
	}
	if s.LastError != "" {
		item("last error", s.LastError)
	}
	// Sorted keys: the order of the map's iteration does not matter.
	keys := slices.Sorted(maps.Keys(s.Details)) //workflowcheck:ignore
	for _, k := range keys {
		item(k, s.Details[k])
	}
	head := fmt.Sprintf("**%s** since %s", s.Phase, detailsTime(s.Since))
	if len(items) == 0 {
		return head
	}
	return head + "\n\n" + strings.Join(items, "\n")
}

// orText is v, or def when v is empty.
func orText(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func detailsMiB(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
