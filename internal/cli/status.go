package cli

import (
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"

	"github.com/vigilops/vigil/workflows"
)

// StatusFields renders a workflow's Status query answer as key/value fields:
// phase with time in phase and since when, bytes done/total with percentage,
// attempt, last poll, last error, message and details. now is the current
// time for a running workflow; pass the zero time for a closed one, whose
// phase is then shown with its start only. How long the whole run took is
// left to the caller, which knows it from the server.
func StatusFields(st workflows.Status, now time.Time) []Field {
	phase := st.Phase
	switch {
	case phase == "" || st.Since.IsZero():
	case now.IsZero():
		phase = fmt.Sprintf("%s (since %s)", phase, FormatTime(st.Since))
	default:
		phase = fmt.Sprintf("%s for %s (since %s)", phase, FormatDuration(now.Sub(st.Since)), FormatTime(st.Since))
	}
	var attempt string
	if st.Attempt > 0 {
		attempt = fmt.Sprint(st.Attempt)
	}
	fields := []Field{
		{Key: "Phase", Value: phase},
		{Key: "Progress", Value: BytesProgress(st.BytesDone, st.BytesTotal, DefaultBarWidth)},
		{Key: "Attempt", Value: attempt},
		{Key: "Last poll", Value: st.LastPoll},
		{Key: "Last error", Value: st.LastError},
		{Key: "Message", Value: st.Message},
	}
	return append(fields, MapFields("Details", st.Details)...)
}

// statusNames maps execution statuses to the lower-case names the CLI shows
// and accepts.
var statusNames = []struct {
	name   string
	status enumspb.WorkflowExecutionStatus
}{
	{"running", enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING},
	{"completed", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED},
	{"failed", enumspb.WORKFLOW_EXECUTION_STATUS_FAILED},
	{"canceled", enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED},
	{"terminated", enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED},
	{"timed_out", enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT},
	{"continued_as_new", enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW},
	{"paused", enumspb.WORKFLOW_EXECUTION_STATUS_PAUSED},
}

// StatusNames lists the execution status names accepted by ParseStatus, in
// display order.
func StatusNames() []string {
	out := make([]string, len(statusNames))
	for i, s := range statusNames {
		out[i] = s.name
	}
	return out
}

// StatusName returns the CLI name of an execution status ("running",
// "timed_out", ...), or "unknown".
func StatusName(s enumspb.WorkflowExecutionStatus) string {
	for _, n := range statusNames {
		if n.status == s {
			return n.name
		}
	}
	return "unknown"
}

// ParseStatus parses a CLI status name (case-insensitive; "-" may stand for
// "_"). The error is a *UsageError listing the valid names.
func ParseStatus(s string) (enumspb.WorkflowExecutionStatus, error) {
	key := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "_")
	for _, n := range statusNames {
		if n.name == key {
			return n.status, nil
		}
	}
	return enumspb.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED,
		Usagef("--status must be one of %s (got %q)", strings.Join(StatusNames(), ", "), s)
}

// FailureMessage renders a Temporal failure and its causes as one line in
// the user's terms, outermost first, e.g. "activity Download failed: bucket
// not found". A cause whose message is already part of the one before it
// (a Go error chain the worker flattened: wrapError, OpError, Errno...) is
// left out, and so are the failures' types; FailureChain keeps them all.
func FailureMessage(f *failurepb.Failure) string {
	var parts []string
	for depth := 0; f != nil && depth < 10; depth, f = depth+1, f.GetCause() {
		msg := failureText(f)
		if msg != "" && (len(parts) == 0 || !strings.Contains(parts[len(parts)-1], msg)) {
			parts = append(parts, msg)
		}
	}
	if len(parts) == 0 {
		return "unknown failure"
	}
	return strings.Join(parts, ": ")
}

// FailureChain lists a failure and its causes, outermost first, each with
// its type ("[NotFound] bucket not found"): the details behind
// FailureMessage, for -o json and --log-level debug.
func FailureChain(f *failurepb.Failure) []string {
	var out []string
	for depth := 0; f != nil && depth < 10; depth, f = depth+1, f.GetCause() {
		if t := f.GetApplicationFailureInfo().GetType(); t != "" {
			out = append(out, "["+t+"] "+oneLine(f.GetMessage()))
		} else {
			out = append(out, failureText(f))
		}
	}
	return out
}

// failureText is one failure's own message, activities and child
// workflows named, timeouts in words.
func failureText(f *failurepb.Failure) string {
	msg := oneLine(f.GetMessage())
	switch {
	case f.GetActivityFailureInfo() != nil:
		if t := f.GetActivityFailureInfo().GetActivityType().GetName(); t != "" {
			msg = "activity " + t + " failed"
		}
	case f.GetChildWorkflowExecutionFailureInfo() != nil:
		if t := f.GetChildWorkflowExecutionFailureInfo().GetWorkflowType().GetName(); t != "" {
			msg = "child workflow " + t + " failed"
		}
	case f.GetTimeoutFailureInfo() != nil:
		msg = "timed out (" + words(f.GetTimeoutFailureInfo().GetTimeoutType().String()) + ")"
	}
	return msg
}

// words turns an enum's PascalCase name ("StartToClose") into lower-case
// words ("start to close").
func words(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte(' ')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
