package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/spf13/cobra"
	"github.com/vigilops/vigil/internal/cli"
	"github.com/vigilops/vigil/internal/schedules"
	"github.com/vigilops/vigil/workflows"
	"go.temporal.io/sdk/client"
)

func (a *app) schedulePauseCommand(pause bool) *cobra.Command {
	var note string
	verb := map[bool]string{true: "pause", false: "unpause"}[pause]
	cmd := &cobra.Command{
		Use:     verb + " ID",
		Short:   strings.ToUpper(verb[:1]) + verb[1:] + " a schedule",
		Example: "  starter schedule " + verb + ` nightly --note "db maintenance until 14:00"`,
		Args:    exactlyOneScheduleID,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			h := c.ScheduleClient().GetHandle(ctx, args[0])
			if pause {
				err = h.Pause(ctx, client.SchedulePauseOptions{Note: note})
			} else {
				err = h.Unpause(ctx, client.ScheduleUnpauseOptions{Note: note})
			}
			if err != nil {
				return a.scheduleError(verb, args[0], err)
			}
			return a.printAction(actionReport{Schedule: args[0], Action: verb + "d"}, fmt.Sprintf("schedule %s %sd", args[0], verb))
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "why (shown with the schedule)")
	return cmd
}

func (a *app) scheduleTriggerCommand() *cobra.Command {
	var overlap string
	cmd := &cobra.Command{
		Use:     "trigger ID",
		Short:   "Start a run now and print it (workflow and run ID)",
		Example: "  starter schedule trigger nightly --overlap allow-all",
		Args:    exactlyOneScheduleID,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := schedules.ParseOverlap(overlap)
			if err != nil {
				return cli.Usagef("--overlap: %v", err)
			}
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			r, err := a.trigger(ctx, c, args[0], client.ScheduleTriggerOptions{Overlap: p})
			if err != nil {
				return err
			}
			if a.format == cli.FormatJSON {
				return cli.WriteJSON(a.stdout, r)
			}
			_, err = fmt.Fprintln(a.stdout, triggerText(r))
			return err
		},
	}
	cmd.Flags().StringVar(&overlap, "overlap", "", "overlap policy for this run (default: the schedule's)")
	return cmd
}

func (a *app) scheduleBackfillCommand() *cobra.Command {
	var from, to, overlap string
	cmd := &cobra.Command{
		Use:     "backfill ID --from TIME --to TIME",
		Short:   "Start the runs the schedule would have started between two times",
		Example: "  starter schedule backfill nightly --from 2026-11-01T00:00:00Z --to 2026-11-08T00:00:00Z --overlap allow-all",
		Args:    exactlyOneScheduleID,
		RunE: func(cmd *cobra.Command, args []string) error {
			start, err1 := time.Parse(time.RFC3339, from)
			end, err2 := time.Parse(time.RFC3339, to)
			if err := errors.Join(err1, err2); err != nil || !end.After(start) {
				return cli.Usagef("--from and --to must be RFC 3339 times with --to after --from")
			}
			p, err := schedules.ParseOverlap(overlap)
			if err != nil {
				return cli.Usagef("--overlap: %v", err)
			}
			if overlap == "" {
				p = enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL
			}
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.ScheduleClient().GetHandle(ctx, args[0]).Backfill(ctx, client.ScheduleBackfillOptions{
				Backfill: []client.ScheduleBackfill{{Start: start, End: end, Overlap: p}}}); err != nil {
				return a.scheduleError("backfill", args[0], err)
			}
			return a.printAction(actionReport{Schedule: args[0], Action: "backfill_requested", Start: start.Format(time.RFC3339), End: end.Format(time.RFC3339)},
				fmt.Sprintf("schedule %s: backfill %s → %s requested", args[0], start.Format(time.RFC3339), end.Format(time.RFC3339)))
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "start (RFC 3339)")
	cmd.Flags().StringVar(&to, "to", "", "end (RFC 3339)")
	cmd.Flags().StringVar(&overlap, "overlap", "", "overlap policy of the backfilled runs (default allow-all)")
	return cmd
}

func (a *app) scheduleDeleteCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "delete ID",
		Short:   "Delete a schedule and stop its watcher (runs already started go on)",
		Example: "  starter schedule delete nightly",
		Args:    exactlyOneScheduleID,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.ScheduleClient().GetHandle(ctx, args[0]).Delete(ctx); err != nil {
				return a.scheduleError("delete", args[0], err)
			}
			// The watcher would end on its next check; cancel it now.
			_ = c.CancelWorkflow(ctx, workflows.ScheduleWatchID(args[0]), "")
			return a.printAction(actionReport{Schedule: args[0], Action: "deleted"}, fmt.Sprintf("schedule %s deleted", args[0]))
		},
	}
}
