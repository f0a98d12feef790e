package schedules

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
)

// Description is what `starter schedule describe` shows.
type Description struct {
	ID       string `json:"id"`
	Workflow string `json:"workflow"`
	// Spec is a human summary of when it fires.
	Spec     string `json:"spec"`
	TimeZone string `json:"timeZone"`
	Overlap  string `json:"overlap"`
	// CatchupWindow, Jitter as Go durations.
	CatchupWindow string `json:"catchupWindow,omitempty"`
	Jitter        string `json:"jitter,omitempty"`
	Paused        bool   `json:"paused"`
	Note          string `json:"note,omitempty"`
	// NextRuns are the next 5 times, in the schedule's zone.
	NextRuns []time.Time `json:"nextRuns"`
	// RecentRuns are the latest actions with their outcome.
	RecentRuns []RecentRun `json:"recentRuns"`
	// Running lists workflow IDs started by the schedule still running.
	Running []string `json:"running"`
	// Counters.
	Actions        int  `json:"actions"`
	SkippedOverlap int  `json:"skippedOverlap"`
	MissedCatchup  int  `json:"missedCatchup"`
	Managed        bool `json:"managed"`
}

// RecentRun is one recent action of a schedule.
type RecentRun struct {
	ScheduledTime time.Time `json:"scheduledTime"`
	ActualTime    time.Time `json:"actualTime"`
	WorkflowID    string    `json:"workflowId"`
	Status        string    `json:"status"`
}

// Describe gathers a schedule's description; outcomes of recent runs come
// from describing each run.
func Describe(ctx context.Context, c client.Client, id string) (Description, error) {
	h := c.ScheduleClient().GetHandle(ctx, id)
	d, err := h.Describe(ctx)
	if err != nil {
		return Description{}, err
	}
	s := d.Schedule
	out := Description{ID: id, Actions: d.Info.NumActions, SkippedOverlap: d.Info.NumActionsSkippedOverlap,
		MissedCatchup: d.Info.NumActionsMissedCatchupWindow, Managed: memoManaged(d)}
	loc := time.UTC
	if s.Spec != nil {
		out.Spec = summarizeSpec(s.Spec)
		out.TimeZone = s.Spec.TimeZoneName
		if out.TimeZone == "" {
			out.TimeZone = "UTC"
		}
		if l, err := time.LoadLocation(out.TimeZone); err == nil {
			loc = l
		}
		if s.Spec.Jitter > 0 {
			out.Jitter = s.Spec.Jitter.String()
		}
	}
	if a, ok := s.Action.(*client.ScheduleWorkflowAction); ok {
		out.Workflow = fmt.Sprint(a.Workflow)
	}
	if s.Policy != nil {
		out.Overlap = OverlapName(s.Policy.Overlap)
		if s.Policy.CatchupWindow > 0 {
			out.CatchupWindow = s.Policy.CatchupWindow.String()
		}
	}
	if s.State != nil {
		out.Paused, out.Note = s.State.Paused, s.State.Note
	}
	for i, t := range d.Info.NextActionTimes {
		if i == 5 {
			break
		}
		out.NextRuns = append(out.NextRuns, t.In(loc))
	}
	for _, ra := range d.Info.RecentActions {
		r := RecentRun{ScheduledTime: ra.ScheduleTime.In(loc), ActualTime: ra.ActualTime.In(loc)}
		if ra.StartWorkflowResult != nil {
			r.WorkflowID = ra.StartWorkflowResult.WorkflowID
			if wd, err := c.DescribeWorkflowExecution(ctx, r.WorkflowID, ra.StartWorkflowResult.FirstExecutionRunID); err == nil {
				r.Status = wd.WorkflowExecutionInfo.GetStatus().String()
			} else {
				r.Status = "unknown"
			}
		}
		out.RecentRuns = append(out.RecentRuns, r)
	}
	for _, rw := range d.Info.RunningWorkflows {
		out.Running = append(out.Running, rw.WorkflowID)
	}
	return out, nil
}

func memoManaged(d *client.ScheduleDescription) bool {
	return d.Memo != nil && IsManaged(d.Memo)
}

// summarizeSpec renders intervals and calendars briefly.
func summarizeSpec(sp *client.ScheduleSpec) string {
	var parts []string
	for _, iv := range sp.Intervals {
		p := "every " + iv.Every.String()
		if iv.Offset > 0 {
			p += " (offset " + iv.Offset.String() + ")"
		}
		parts = append(parts, p)
	}
	for _, c := range sp.CronExpressions {
		parts = append(parts, "cron "+c)
	}
	for _, cal := range sp.Calendars {
		parts = append(parts, "at "+calendarString(cal))
	}
	if len(parts) == 0 {
		return "(no times)"
	}
	out := parts[0]
	for _, p := range parts[1:] {
		out += "; " + p
	}
	return out
}

func calendarString(c client.ScheduleCalendarSpec) string {
	r := func(rs []client.ScheduleRange) string {
		if len(rs) == 0 {
			return "*"
		}
		s := ""
		for i, x := range rs {
			if i > 0 {
				s += ","
			}
			switch {
			case x.End > x.Start && x.Step > 1:
				s += fmt.Sprintf("%d-%d/%d", x.Start, x.End, x.Step)
			case x.End > x.Start:
				s += fmt.Sprintf("%d-%d", x.Start, x.End)
			default:
				s += fmt.Sprint(x.Start)
			}
		}
		return s
	}
	if c.Comment != "" {
		return c.Comment
	}
	return fmt.Sprintf("min %s hour %s dom %s month %s dow %s", r(c.Minute), r(c.Hour), r(c.DayOfMonth), r(c.Month), r(c.DayOfWeek))
}
