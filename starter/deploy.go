package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigilops/vigil/internal/cli"
	"github.com/vigilops/vigil/internal/rollout"
)

// deployFlags are the flags of the deploy commands.
type deployFlags struct {
	name                    string
	ignoreMissingTaskQueues bool
	stop                    bool
}

func (a *app) deployCommands() *cobra.Command {
	f := &deployFlags{}
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Roll out worker builds with Worker Versioning (status, set-current, ramp, rollback)",
		Long: `Drive vigil's Worker Deployment: the workers started with --deployment-name NAME
--build-id ID (README "Rollouts"). New runs start on the current build (or, for a ramp's
percentage, on the ramping build). Pinned runs (Glacier and S3 restore waits, backups,
Datastore operations, batch jobs) finish on the build that started them; auto-upgrade runs
move to the current build at their next step. An old build may stop once 'status' shows it
drained.`,
		Example: `  starter deploy status
  starter deploy set-current v1.5.0+0123456789ab
  starter deploy ramp v1.5.0+0123456789ab 10
  starter deploy rollback`,
	}
	name := os.Getenv(rollout.DeploymentNameEnv)
	if name == "" {
		name = rollout.DefaultDeploymentName
	}
	cmd.PersistentFlags().StringVar(&f.name, "deployment-name", name, "the Worker Deployment ($"+rollout.DeploymentNameEnv+" sets the default)")
	routing := func(c *cobra.Command) *cobra.Command {
		c.Flags().BoolVar(&f.ignoreMissingTaskQueues, "ignore-missing-task-queues", false,
			"allow a build that does not poll every task queue of the current build (e.g. a host's queue whose host has no worker of it yet)")
		return c
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "status",
		Short: "Show each build: current or ramping, pollers, pinned runs still draining on it",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return a.runDeploy(c.Context(), f, "status", nil) },
	}, routing(&cobra.Command{
		Use:   "set-current BUILD_ID",
		Short: "Send every new run to BUILD_ID (the previous build drains its pinned runs)",
		Args:  a.deployArgs(1, 1),
		RunE:  func(c *cobra.Command, args []string) error { return a.runDeploy(c.Context(), f, "set-current", args) },
	}), routing(&cobra.Command{
		Use:   "ramp BUILD_ID PERCENT | ramp --stop",
		Short: "Send PERCENT % of new runs to BUILD_ID, the rest to the current build",
		Args:  a.deployArgs(0, 2),
		RunE:  func(c *cobra.Command, args []string) error { return a.runDeploy(c.Context(), f, "ramp", args) },
	}), routing(&cobra.Command{
		Use:   "rollback [BUILD_ID]",
		Short: "Stop a ramp, or make the previous build (or BUILD_ID) current again",
		Args:  a.deployArgs(0, 1),
		RunE:  func(c *cobra.Command, args []string) error { return a.runDeploy(c.Context(), f, "rollback", args) },
	}))
	for _, sub := range cmd.Commands() {
		if sub.Name() == "ramp" {
			sub.Flags().BoolVar(&f.stop, "stop", false, "stop the ramp: the current build takes all new runs")
		}
	}
	return cmd
}

// deployArgs checks the argument count and the build ID (first argument).
func (a *app) deployArgs(minN, maxN int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < minN || len(args) > maxN {
			return cli.Usagef("%s takes %d to %d arguments (got %d; see '%s --help')", cmd.Name(), minN, maxN, len(args), cmd.CommandPath())
		}
		if len(args) > 0 {
			if err := rollout.CheckBuildID("BUILD_ID", args[0]); err != nil {
				return cli.Usagef("%s", err)
			}
		}
		return nil
	}
}

// validate checks what the command line says before anything is contacted;
// it returns the ramp percentage.
func (f *deployFlags) validate(verb string, args []string) (float32, error) {
	if err := rollout.CheckDeploymentName("--deployment-name", f.name); err != nil {
		return 0, cli.Usagef("%s", err)
	}
	if verb != "ramp" {
		return 0, nil
	}
	switch {
	case f.stop && len(args) > 0:
		return 0, cli.Usagef("ramp --stop takes no arguments")
	case f.stop:
		return 0, nil
	case len(args) != 2:
		return 0, cli.Usagef("ramp needs BUILD_ID and PERCENT (or --stop)")
	}
	pct, err := strconv.ParseFloat(strings.TrimSuffix(args[1], "%"), 32)
	if err != nil || pct <= 0 || pct > 100 {
		return 0, cli.Usagef("ramp PERCENT %q: want a number above 0 and at most 100", args[1])
	}
	return float32(pct), nil
}

func (a *app) runDeploy(ctx context.Context, f *deployFlags, verb string, args []string) error {
	pct, err := f.validate(verb, args)
	if err != nil {
		return err
	}
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if verb == "status" {
		st, err := rollout.Describe(ctx, c, a.namespace, f.name)
		if err != nil {
			return a.deployError(f.name, err)
		}
		return a.printDeployStatus(st)
	}
	opts := rollout.Options{Identity: identity(), IgnoreMissingTaskQueues: f.ignoreMissingTaskQueues}
	var ch rollout.Change
	switch {
	case verb == "set-current":
		ch, err = rollout.SetCurrent(ctx, c, f.name, args[0], opts)
	case verb == "ramp" && f.stop:
		ch, err = rollout.Ramp(ctx, c, f.name, "", 0, opts)
	case verb == "ramp":
		ch, err = rollout.Ramp(ctx, c, f.name, args[0], pct, opts)
	default:
		to := ""
		if len(args) > 0 {
			to = args[0]
		}
		ch, err = rollout.Rollback(ctx, c, a.namespace, f.name, to, opts)
	}
	if err != nil {
		return a.deployError(f.name, err)
	}
	if a.format == cli.FormatJSON {
		return cli.WriteJSON(a.stdout, ch)
	}
	fmt.Fprintf(a.stdout, "%s: new runs now go to %s.\n", ch.Action, routingText(ch.Current, ch.Ramping, ch.RampPercentage))
	fmt.Fprintf(a.stdout, "Before: %s. Follow the old build's draining with: starter deploy status --deployment-name %s\n",
		routingText(ch.PreviousCurrent, ch.PreviousRamping, ch.PreviousRampPercentage), f.name)
	return nil
}

// routingText is "build A" or "build A, and 10% to build B".
func routingText(current, ramping string, pct float32) string {
	s := "no build (unversioned workers)"
	if current != "" {
		s = "build " + current
	}
	if ramping != "" {
		s += fmt.Sprintf(", and %v%% to build %s", pct, ramping)
	}
	return s
}

// deployError makes a deployment error one line, with its exit code.
func (a *app) deployError(name string, err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return errors.New("interrupted")
	case errors.Is(err, rollout.ErrNoRollbackTarget):
		return err
	case notFound(err):
		return cli.NotFound(fmt.Errorf("no worker deployment %q in namespace %q (start a worker with --deployment-name %s): %s", name, a.namespace, name, oneLine(err.Error())))
	}
	return err // printError makes it one line; its type keeps its exit code (4 for Unavailable)
}

func (a *app) printDeployStatus(st rollout.Status) error {
	if a.format == cli.FormatJSON {
		return cli.WriteJSON(a.stdout, st)
	}
	fmt.Fprintf(a.stdout, "Deployment %s in namespace %s\n\n", st.DeploymentName, a.namespace)
	rows := make([][]string, 0, len(st.Builds))
	for _, b := range st.Builds {
		rows = append(rows, []string{b.BuildID, buildRole(b), strconv.FormatInt(b.PinnedRunning, 10), strconv.Itoa(len(b.Pollers)), cli.FormatTime(b.CreateTime)})
	}
	if err := cli.WriteTable(a.stdout, []string{"BUILD", "ROUTING", "PINNED RUNS", "POLLERS", "CREATED"}, rows); err != nil {
		return err
	}
	if st.Propagating {
		fmt.Fprintln(a.stdout, "\nThe last routing change is still reaching the task queues: new runs may start on the previous build for a moment.")
	}
	if st.Current() == "" {
		fmt.Fprintf(a.stdout, "\nNo current build: new runs wait. Make one current: starter deploy set-current BUILD_ID --deployment-name %s\n", st.DeploymentName)
	}
	return nil
}

// buildRole is the ROUTING cell: current, ramping N%, draining, drained or
// inactive (never routed to).
func buildRole(b rollout.Build) string {
	switch {
	case b.Current:
		return "current"
	case b.Ramping:
		return fmt.Sprintf("ramping %v%%", b.RampPercentage)
	case b.Drainage != "":
		return b.Drainage
	}
	return "inactive"
}
