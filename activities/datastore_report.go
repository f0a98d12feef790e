package activities

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"
	// The report's time zone must resolve on hosts without a zone database.
	_ "time/tzdata"

	"github.com/vigilops/vigil/workflows/flowdata"
)

// DefaultDatastoreTimeZone is the zone of report times when none is set:
// the replaced report used JST.
const DefaultDatastoreTimeZone = "Asia/Tokyo"

// SlackGrey is the colour of a cancelled run's report.
const SlackGrey = "#9e9e9e"

// DatastoreReportInput is what a Datastore export or import run reports.
type DatastoreReportInput struct {
	// Action is "export" or "import".
	Action string `json:"action"`
	// Outcome is a flowdata.Outcome* constant.
	Outcome string `json:"outcome"`
	Project string `json:"project"`
	// Op is the last snapshot of the operation (may lack a name when the
	// start failed).
	Op flowdata.DatastoreOp `json:"operation"`
	// Error explains a failure.
	Error string `json:"error,omitempty"`
	// Started is when the run started; Elapsed how long it followed the
	// operation; Deadline its deadline.
	Started  time.Time         `json:"started"`
	Elapsed  flowdata.Duration `json:"elapsed"`
	Deadline flowdata.Duration `json:"deadline"`
	// Report settings (zone and webhook env var name).
	Report flowdata.DatastoreReport `json:"report"`
	// WorkflowID and RunID identify the run; the message carries them so a
	// duplicate post (see ReportDatastore) is recognisable.
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
}

// ReportDatastore posts the run's one Slack report. It is an activity of
// its own so that Temporal retries it only when the POST did not succeed;
// the remaining duplicate window is a worker dying after Slack accepted
// the POST and before Temporal recorded the completion (milliseconds):
// Slack webhooks have no idempotency key, so the message's footer carries
// the run ID to make such a duplicate recognisable.
func (a *Datastore) ReportDatastore(ctx context.Context, in DatastoreReportInput) error {
	if a.Slack == nil {
		return ConfigError("datastore: no Slack notifier configured on this worker")
	}
	return a.Slack.Notify(ctx, DatastoreMessage(in))
}

// DatastoreMessage builds the report: green on success, red on failure,
// orange past the deadline, grey when cancelled.
func DatastoreMessage(in DatastoreReportInput) SlackMessage {
	zone := in.Report.TimeZone
	if zone == "" {
		zone = DefaultDatastoreTimeZone
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc, zone = time.UTC, "UTC (unknown zone "+zone+")"
	}
	at := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.In(loc).Format("2006-01-02 15:04:05 MST")
	}
	op := in.Op
	what := "Datastore " + in.Action + " of " + in.Project
	m := SlackMessage{WebhookEnv: in.Report.WebhookEnv,
		Footer: fmt.Sprintf("vigil datastore-%s · workflow %s · run %s · times in %s", in.Action, in.WorkflowID, in.RunID, zone)}
	add := func(title, value string, short bool) {
		if value != "" {
			m.Fields = append(m.Fields, SlackField{Title: title, Value: value, Short: short})
		}
	}
	hint := ""
	if op.Name != "" {
		hint = fmt.Sprintf("gcloud datastore operations describe %s --project %s", op.Name, in.Project)
	}
	start := op.Start
	if start.IsZero() {
		start = in.Started
	}
	switch in.Outcome {
	case flowdata.OutcomeSucceeded:
		m.Color, m.Title = SlackGood, what+" succeeded"
		m.Text = fmt.Sprintf("%s succeeded: %s entities, %s", what, Count(op.EntitiesDone), Bytes(op.BytesDone))
		add("Start", at(start), true)
		add("End", at(op.End), true)
		add("Entities", Count(op.EntitiesDone), true)
		add("Bytes", Bytes(op.BytesDone), true)
		add("Output URL", op.OutputURL, false)
		add("Input URL", op.InputURL, false)
		add("Operation", op.Name, false)
	case flowdata.OutcomeFailed:
		m.Color, m.Title = SlackDanger, what+" failed"
		m.Text = fmt.Sprintf("%s failed: %s", what, in.Error)
		add("Error", in.Error, false)
		add("Start", at(start), true)
		add("End", at(op.End), true)
		add("Operation", op.Name, false)
		add("Hint", hint, false)
	case flowdata.OutcomeDeadline:
		m.Color, m.Title = SlackWarning, what+" not done by its deadline"
		m.Text = fmt.Sprintf("%s still %s after %s", what, op.State, in.Deadline)
		add("State", op.State, true)
		add("Progress", Progress(op), true)
		add("Start", at(start), true)
		add("Deadline", in.Deadline.String(), true)
		// Where the export writes: its output URL once known, else the
		// folder it writes into (the operation's output URL prefix).
		add("Output URL", cmp.Or(op.OutputURL, op.OutputURLPrefix), false)
		add("Input URL", op.InputURL, false)
		add("Operation", op.Name, false)
		add("Hint", hint, false)
	default:
		m.Color, m.Title = SlackGrey, what+" cancelled"
		m.Text = what + " cancelled"
		add("State", op.State, true)
		add("Progress", Progress(op), true)
		add("Start", at(start), true)
		add("Operation", op.Name, false)
		add("Hint", hint, false)
	}
	return m
}

// Progress renders "N of ~M entities (P%)".
func Progress(op flowdata.DatastoreOp) string {
	if op.EntitiesEstimated <= 0 {
		return Count(op.EntitiesDone) + " entities"
	}
	return fmt.Sprintf("%s of ~%s entities (%d%%)", Count(op.EntitiesDone), Count(op.EntitiesEstimated), op.EntitiesDone*100/op.EntitiesEstimated)
}

// Count renders n with thousands separators.
func Count(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Bytes renders a byte count in SI units with the exact count.
func Bytes(n int64) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB"}
	f, i := float64(n), 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f %s (%s bytes)", f, units[i], Count(n))
}
