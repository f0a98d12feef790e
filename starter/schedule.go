package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.yaml.in/yaml/v3"

	"github.com/vigilops/vigil/internal/catalog"
	"github.com/vigilops/vigil/internal/cli"
	"github.com/vigilops/vigil/internal/schedules"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

func (a *app) scheduleCommands() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Manage Temporal Schedules that start vigil flows",
		Long: `Temporal Schedules replace cron: they fire on time whether or not a worker is up, keep
their history, can be paused, triggered, backfilled and described. Every schedule vigil
creates also gets a watcher workflow (schedwatch/<id>) that posts to Slack when a run is
skipped by the overlap policy, misses its catch-up window, or (for flows that do not alert
on their own) fails.`,
		Example: `  starter schedule create nightly --cron "0 3 * * *" --tz Asia/Tokyo --workflow batch --input jobs/nightly.yaml
  starter schedule apply -f schedules.yaml --prune
  starter schedule describe nightly`,
	}
	cmd.AddCommand(a.scheduleCreateCommand(false), a.scheduleCreateCommand(true), a.scheduleApplyCommand(),
		a.scheduleListCommand(), a.scheduleDescribeCommand(), a.schedulePauseCommand(true), a.schedulePauseCommand(false),
		a.scheduleTriggerCommand(), a.scheduleBackfillCommand(), a.scheduleDeleteCommand())
	return cmd
}

// specFlags are the flags of create and update.
type specFlags struct {
	s        schedules.Spec
	input    string
	every    time.Duration
	offset   time.Duration
	catchup  time.Duration
	jitter   time.Duration
	startAt  string
	endAt    string
	noteFlag string
}

func (f *specFlags) bind(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.s.Cron, "cron", "", "5-field cron expression, e.g. \"0 3 * * *\" (or @daily, @hourly)")
	fl.DurationVar(&f.every, "every", 0, "fixed interval, e.g. 5m (instead of --cron)")
	fl.DurationVar(&f.offset, "offset", 0, "phase of --every, e.g. 1m")
	fl.StringVar(&f.s.Timezone, "tz", "", "IANA time zone for --cron, e.g. Asia/Tokyo (default UTC)")
	fl.StringVar(&f.s.Workflow, "workflow", "", "what to start: "+strings.Join(catalog.Names(), ", "))
	fl.StringVar(&f.input, "input", "", "input file (YAML or JSON), e.g. a job spec for --workflow batch")
	fl.StringVar(&f.s.Overlap, "overlap", "skip", "when a run is still going: "+strings.Join(schedules.OverlapNames(), ", "))
	fl.DurationVar(&f.catchup, "catchup-window", 0, "how late a missed run may still start (default: Temporal's, 1 year)")
	fl.DurationVar(&f.jitter, "jitter", 0, "random delay up to this for each run")
	fl.BoolVar(&f.s.PauseOnFailure, "pause-on-failure", false, "pause the schedule when a run fails")
	fl.StringVar(&f.startAt, "start-at", "", "first time the schedule may fire (RFC 3339)")
	fl.StringVar(&f.endAt, "end-at", "", "last time the schedule may fire (RFC 3339)")
	fl.StringVar(&f.s.Note, "note", "", "note shown with the schedule")
	fl.BoolVar(&f.s.Paused, "paused", false, "create it paused")
}

// build validates the flags (before anything is contacted).
func (f *specFlags) build(id, taskQueue string) (schedules.Built, error) {
	f.s.ID = id
	f.s.Every, f.s.Offset = flowdata.Duration(f.every), flowdata.Duration(f.offset)
	f.s.CatchupWindow, f.s.Jitter = flowdata.Duration(f.catchup), flowdata.Duration(f.jitter)
	f.s.StartAt, f.s.EndAt = f.startAt, f.endAt
	if f.s.Workflow == "" {
		return schedules.Built{}, cli.Usagef("--workflow is required (%s)", strings.Join(catalog.Names(), ", "))
	}
	if f.input == "" {
		return schedules.Built{}, cli.Usagef("--input is required")
	}
	abs, err := filepath.Abs(f.input)
	if err != nil {
		return schedules.Built{}, cli.Usagef("--input: %v", err)
	}
	f.s.Input = yaml.Node{Kind: yaml.ScalarNode, Value: abs}
	b, err := schedules.Build(f.s, "", taskQueue)
	if err != nil {
		return b, cli.Usagef("%v", err)
	}
	return b, nil
}

func (a *app) scheduleCreateCommand(update bool) *cobra.Command {
	var f specFlags
	var hf hostFlags
	use, short := "create ID", "Create a schedule (and its watcher)"
	if update {
		use, short = "update ID", "Replace a schedule's definition with the flags given (a full spec, as for create)"
	}
	cmd := &cobra.Command{
		Use:     use + " (--cron EXPR | --every DUR) --workflow KIND --input FILE",
		Short:   short,
		Example: "  starter schedule " + strings.Fields(use)[0] + ` nightly --cron "20 * * * *" --tz Asia/Tokyo --workflow batch --input jobs/nightly-dump.yaml --overlap skip`,
		Args:    exactlyOneScheduleID,
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := f.build(args[0], a.flags.taskQueue)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := a.checkScheduleHosts(ctx, c, []schedules.Built{b}, hf.allowUnknown); err != nil {
				return err
			}
			if update {
				err = schedules.Replace(ctx, c, b)
			} else {
				_, err = c.ScheduleClient().Create(ctx, b.Options)
			}
			if err != nil {
				return fmt.Errorf("schedule %s: %w", b.Spec.ID, err)
			}
			if err := a.ensureWatcher(ctx, c, b); err != nil {
				return err
			}
			action := map[bool]string{false: "created", true: "updated"}[update]
			return a.printAction(actionReport{Schedule: b.Spec.ID, Action: action, Watcher: workflows.ScheduleWatchID(b.Spec.ID)},
				fmt.Sprintf("schedule %s %s (watcher %s)", b.Spec.ID, action, workflows.ScheduleWatchID(b.Spec.ID)))
		},
	}
	f.bind(cmd)
	hf.add(cmd, false)
	return cmd
}

// ensureWatcher starts the schedule's watcher unless it runs already.
func (a *app) ensureWatcher(ctx context.Context, c client.Client, b schedules.Built) error {
	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.ScheduleWatchID(b.Spec.ID), TaskQueue: a.flags.taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.ScheduleWatchWorkflow, workflows.ScheduleWatchInput{ScheduleID: b.Spec.ID, AlertFailures: !b.Kind.AlertsOnFailure, Interval: a.watchInterval})
	if err != nil {
		return fmt.Errorf("starting the watcher of %s: %w", b.Spec.ID, err)
	}
	return nil
}

func (a *app) scheduleApplyCommand() *cobra.Command {
	var file string
	var prune, dryRun bool
	var hf hostFlags
	cmd := &cobra.Command{
		Use:   "apply -f FILE [--prune] [--dry-run]",
		Short: "Make the server's schedules match a schedules file",
		Long: `apply creates missing schedules, updates changed ones (the spec or its input file changed)
and leaves unchanged ones alone; running it twice changes nothing. With --prune it deletes
vigil-managed schedules that are not in the file (never schedules vigil did not create).
--dry-run prints the plan only.`,
		Example: `  starter schedule apply -f schedules.yaml --dry-run
  starter schedule apply -f schedules.yaml --prune`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return cli.Usagef("-f FILE is required")
			}
			built, err := schedules.ReadFile(file, a.flags.taskQueue)
			if err != nil {
				return cli.Usagef("%v", err)
			}
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := a.checkScheduleHosts(ctx, c, built, hf.allowUnknown); err != nil {
				return err
			}
			steps, err := schedules.Plan(ctx, c, built, prune)
			if err != nil {
				return err
			}
			if !dryRun {
				if err := schedules.Apply(ctx, c, steps); err != nil {
					return err
				}
				for _, st := range steps {
					if st.Built != nil {
						if err := a.ensureWatcher(ctx, c, *st.Built); err != nil {
							return err
						}
					}
				}
			}
			if a.format == cli.FormatJSON {
				return cli.WriteJSON(a.stdout, steps)
			}
			for _, st := range steps {
				fmt.Fprintf(a.stdout, "%-9s %s\n", st.Action, st.ID)
			}
			if dryRun {
				fmt.Fprintln(a.stdout, "(dry run: nothing changed)")
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "schedules file (YAML)")
	cmd.Flags().BoolVar(&prune, "prune", false, "delete vigil-managed schedules missing from the file")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the plan, change nothing")
	hf.add(cmd, false)
	return cmd
}

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
				return fmt.Errorf("schedule %s: %w", args[0], err)
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
				fields = append(fields, cli.Field{Key: fmt.Sprintf("Next %d", i+1), Value: t.Format("2006-01-02 15:04:05 MST")})
			}
			for _, r := range d.RecentRuns {
				fields = append(fields, cli.Field{Key: "Recent", Value: fmt.Sprintf("%s  %s  %s", r.ScheduledTime.Format("2006-01-02 15:04:05 MST"), r.Status, r.WorkflowID)})
			}
			for _, id := range d.Running {
				fields = append(fields, cli.Field{Key: "Running", Value: id})
			}
			return cli.WriteFields(a.stdout, fields)
		},
	}
}

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
				return fmt.Errorf("%s %s: %w", verb, args[0], err)
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
		Short:   "Start a run now",
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
			if err := c.ScheduleClient().GetHandle(ctx, args[0]).Trigger(ctx, client.ScheduleTriggerOptions{Overlap: p}); err != nil {
				return fmt.Errorf("trigger %s: %w", args[0], err)
			}
			return a.printAction(actionReport{Schedule: args[0], Action: "triggered"}, fmt.Sprintf("schedule %s triggered", args[0]))
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
				return fmt.Errorf("backfill %s: %w", args[0], err)
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
				return fmt.Errorf("delete %s: %w", args[0], err)
			}
			// The watcher would end on its next check; cancel it now.
			_ = c.CancelWorkflow(ctx, workflows.ScheduleWatchID(args[0]), "")
			return a.printAction(actionReport{Schedule: args[0], Action: "deleted"}, fmt.Sprintf("schedule %s deleted", args[0]))
		},
	}
}

// exactlyOneScheduleID checks the ID argument of schedule commands.
func exactlyOneScheduleID(cmd *cobra.Command, args []string) error {
	if len(args) != 1 || strings.TrimSpace(args[0]) == "" {
		return cli.Usagef("%s needs exactly one schedule ID", cmd.Name())
	}
	return nil
}
