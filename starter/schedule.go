package main

import (
	"context"
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
		Example: `  starter schedule create nightly --cron "0 3 * * *" --tz Asia/Tokyo --workflow batch --input examples/jobs/nightly.yaml
  starter schedule apply -f examples/schedules.yaml --prune
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
	paused   bool
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
	fl.BoolVar(&f.paused, "paused", false, "pause it (update: --paused=false unpauses; without the flag the pause state is kept)")
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
		Use:   use + " (--cron EXPR | --every DUR) --workflow KIND --input FILE",
		Short: short,
		Long: short + `. --input is the workflow's input file: a job file for batch ('starter batch run
--help'), a backup input for backup (examples/backup-cache.yaml, schemas/backup.schema.json), the
sweep input below for s3-sweep, a restore input for restore (a restore drill:
examples/restore-scratch.yaml), a retrieval for glacier (examples/glacier-retrieve.yaml) or an S3
restore for s3restore (examples/s3-restore.yaml), whose keys are their verbs' flags, verify: full
and hostWait included; it is validated before anything is contacted (exit 2). Several
schedules from one file: 'starter schedule apply --help'.` +
			fileFormatHelp("Sweep input (--workflow s3-sweep)", "sweep.yaml", "sweep.schema.json"),
		Example: "  starter schedule " + strings.Fields(use)[0] + ` nightly --cron "20 * * * *" --tz Asia/Tokyo --workflow batch --input examples/jobs/nightly.yaml --overlap skip
  starter schedule ` + strings.Fields(use)[0] + ` inbox-sweep --every 5m --workflow s3-sweep --input examples/sweep.yaml`,
		Args: exactlyOneScheduleID,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("paused") {
				f.s.Paused = &f.paused
			}
			b, err := f.build(args[0], a.flags.taskQueue)
			if err != nil {
				return err
			}
			a.warnScheduleSecretEnv([]schedules.Built{b})
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
				if err = schedules.Replace(ctx, c, b); err != nil {
					return a.scheduleError("update", b.Spec.ID, err)
				}
			} else if _, err = c.ScheduleClient().Create(ctx, b.Options); err != nil {
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
Each update lists the fields it changes. A schedule's pause state changes only when the file
sets paused: (true or false); without it, a paused schedule stays paused. --dry-run prints the
same plan and changes nothing. The whole file, inputs included, is validated before anything is
contacted (exit 2).` + fileFormatHelp("Schedules file", "schedules.yaml", "schedules.schema.json") + `

input is a file path (relative to the schedules file) or the document inline: a job file for
batch ('starter batch run --help'), the sweep input for s3-sweep ('starter schedule create
--help'), a backup input for backup (examples/backup-cache.yaml, schemas/backup.schema.json),
a restore, glacier or s3restore input (examples/restore-drill.yaml, 'starter schedule create --help').`,
		Example: `  starter schedule apply -f examples/schedules.yaml --dry-run
  starter schedule apply -f examples/schedules.yaml --prune`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return cli.Usagef("-f FILE is required")
			}
			built, err := schedules.ReadFile(file, a.flags.taskQueue)
			if err != nil {
				return cli.Usagef("%v", err)
			}
			a.warnScheduleSecretEnv(built)
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
				for _, ch := range st.Changes {
					fmt.Fprintf(a.stdout, "          %s\n", ch)
				}
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

// exactlyOneScheduleID checks the ID argument of schedule commands.
func exactlyOneScheduleID(cmd *cobra.Command, args []string) error {
	if len(args) != 1 || strings.TrimSpace(args[0]) == "" {
		return cli.Usagef("%s needs exactly one schedule ID", cmd.Name())
	}
	return nil
}
