package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigilops/vigil/internal/cli"
	"github.com/vigilops/vigil/internal/schedules"
	"go.temporal.io/sdk/client"
)

func (a *app) scheduleListCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List schedules (vigil-managed ones are marked)",
		Example: "  starter schedule list -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			iter, err := c.ScheduleClient().List(ctx, client.ScheduleListOptions{})
			if err != nil {
				return err
			}
			type item struct {
				ID       string    `json:"id"`
				Workflow string    `json:"workflow"`
				Managed  bool      `json:"managed"`
				Paused   bool      `json:"paused"`
				Next     time.Time `json:"next,omitzero"`
				Note     string    `json:"note,omitempty"`
			}
			items := []item{} // -o json prints [] when there are none
			var rows [][]string
			for iter.HasNext() {
				e, err := iter.Next()
				if err != nil {
					return err
				}
				it := item{ID: e.ID, Workflow: e.WorkflowType.Name, Managed: schedules.IsManaged(e.Memo), Paused: e.Paused, Note: e.Note}
				if len(e.NextActionTimes) > 0 {
					it.Next = e.NextActionTimes[0]
				}
				items = append(items, it)
				next := "-"
				if !it.Next.IsZero() {
					next = cli.FormatTime(it.Next)
				}
				rows = append(rows, []string{it.ID, it.Workflow, map[bool]string{true: "yes", false: "no"}[it.Managed], fmt.Sprint(it.Paused), next, it.Note})
			}
			if a.format == cli.FormatJSON {
				return cli.WriteJSON(a.stdout, items)
			}
			if len(rows) == 0 {
				fmt.Fprintln(a.stdout, "No schedules.")
				return nil
			}
			return cli.WriteTable(a.stdout, []string{"ID", "WORKFLOW", "VIGIL", "PAUSED", "NEXT", "NOTE"}, rows)
		},
	}
}

func (a *app) scheduleDescribeCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "describe ID",
		Short:   "Show a schedule: spec, next 5 runs in its time zone, recent runs and their outcome",
		Example: "  starter schedule describe nightly",
		Args:    exactlyOneScheduleID,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			d, err := schedules.Describe(ctx, c, args[0])
			if err != nil {
				return a.scheduleError("describe", args[0], err)
			}
			if a.format == cli.FormatJSON {
				return cli.WriteJSON(a.stdout, d)
			}
			fields := []cli.Field{
				{Key: "Schedule", Value: d.ID}, {Key: "Workflow", Value: d.Workflow}, {Key: "Spec", Value: d.Spec},
				{Key: "Time zone", Value: d.TimeZone}, {Key: "Overlap", Value: d.Overlap},
				{Key: "Paused", Value: fmt.Sprint(d.Paused)}, {Key: "Note", Value: d.Note},
				{Key: "Counters", Value: fmt.Sprintf("%d runs, %d skipped (overlap), %d missed (catch-up)", d.Actions, d.SkippedOverlap, d.MissedCatchup)},
			}
			for i, t := range d.NextRuns {
				fields = append(fields, cli.Field{Key: fmt.Sprintf("Next %d", i+1), Value: t.Format(cli.TimeLayout)})
			}
			for _, r := range d.RecentRuns {
				fields = append(fields, cli.Field{Key: "Recent", Value: fmt.Sprintf("%s  %s  %s", r.ScheduledTime.Format(cli.TimeLayout), r.Status, r.WorkflowID)})
			}
			for _, id := range d.Running {
				fields = append(fields, cli.Field{Key: "Running", Value: id})
			}
			return cli.WriteFields(a.stdout, fields)
		},
	}
}
