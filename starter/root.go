package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.temporal.io/sdk/converter"

	"github.com/vigilops/vigil/internal/cli"
	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/internal/tclient"
	"github.com/vigilops/vigil/workflows"
)

// globalFlags are the flags every command accepts.
type globalFlags struct {
	output    string
	taskQueue string
	address   string
	namespace string
	// ops are the operational flags (ops.go).
	ops opsFlags
}

// app is one invocation of the CLI: its output streams, its injected
// dependencies and the parsed global flags. Tests build one with newApp,
// adjust the fields and call execute.
type app struct {
	stdout io.Writer
	stderr io.Writer

	// env replaces the process environment for the Temporal connection
	// (TEMPORAL_*); nil means the OS environment.
	env envconfig.EnvLookup
	// dial connects with resolved options; it defaults to
	// tclient.DialOptions with its default timeout.
	dial func(ctx context.Context, co client.Options) (client.Client, error)
	// refresh is how often `wait` re-queries the workflow's status.
	refresh time.Duration
	// queryTimeout bounds one status query.
	queryTimeout time.Duration
	// now returns the current time.
	now func() time.Time
	// watchInterval is how often schedule watchers check (0: the
	// workflow's default, 1 minute).
	watchInterval time.Duration

	flags  globalFlags
	format cli.Format
	// namespace and address are the ones actually used, known after
	// connect.
	namespace, address string
	// dataConverter decodes payloads the way the client does (with the
	// payload codec), known after connect.
	dataConverter converter.DataConverter
	// ranCommand is set once a command's RunE starts: errors before that
	// point come from parsing and validation, so they are usage errors.
	ranCommand bool
}

// newApp returns an app writing to stdout and stderr with production
// dependencies.
func newApp(stdout, stderr io.Writer) *app {
	return &app{
		stdout: stdout,
		stderr: stderr,
		dial: func(ctx context.Context, co client.Options) (client.Client, error) {
			return tclient.DialOptions(ctx, co, 0)
		},
		refresh:      time.Second,
		queryTimeout: 5 * time.Second,
		now:          time.Now,
	}
}

// execute runs args and returns the exit code, printing any error as one
// line on stderr.
func (a *app) execute(ctx context.Context, args []string) int {
	root := a.rootCommand()
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return cli.ExitOK
	}
	code := cli.ExitCode(err)
	if !a.ranCommand {
		code = cli.ExitUsage
	} else if ctx.Err() != nil && !cli.IsSilent(err) {
		// Ctrl-C: whatever RPC was under way failed because of it.
		fmt.Fprintln(a.stderr, "starter: interrupted")
		return cli.ExitInterrupted
	}
	if !cli.IsSilent(err) {
		a.printError(cmd, err, code)
	}
	return code
}

// printError prints err as one line in the user's terms (cli.Message); the
// error's chain goes to -o json's "details" and to --log-level debug. Every
// URL in them is shown redacted (location.RedactText): a message that
// quotes a URL it refuses never echoes the credential its query carries.
func (a *app) printError(cmd *cobra.Command, err error, code int) {
	msg := location.RedactText(cli.Message(err))
	var ue *cli.UsageError
	if code == cli.ExitUsage && !errors.As(err, &ue) && cmd != nil {
		// cobra's own parse errors: point at the help.
		msg += fmt.Sprintf(" (see '%s --help')", cmd.CommandPath())
	}
	details := cli.Details(err)
	for i, d := range details {
		details[i] = location.RedactText(d)
	}
	if a.format == cli.FormatJSON {
		// One JSON object on stderr, stable fields.
		out := map[string]any{"error": oneLine(msg), "exitCode": code}
		if len(details) > 1 || (len(details) == 1 && !strings.HasSuffix(details[0], msg)) {
			out["details"] = details
		}
		_ = cli.WriteJSON(a.stderr, out)
		return
	}
	fmt.Fprintf(a.stderr, "starter: %s\n", oneLine(msg))
	if a.ranCommand {
		for i, d := range details {
			a.logger().Debug("error chain", "depth", i, "error", d)
		}
	}
}

// rootCommand builds the command tree bound to a.
func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "starter",
		Short: "Start and inspect vigil's durable cloud-ops flows",
		Long: `starter drives vigil's flows on a Temporal server: it lists them, shows their
progress, waits for them and cancels them.

The server is chosen like every Temporal client: a TOML profile (TEMPORAL_CONFIG_FILE,
TEMPORAL_PROFILE), then TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TLS*,
TEMPORAL_API_KEY; --address and --namespace override them. Without any of these it
uses the local dev server started by 'worker --dev' (127.0.0.1:7233, namespace "default").

Exit codes, the same for every command: 0 success; 1 the workflow failed, was canceled,
terminated or timed out, or the start was refused (another run is under way); 2 invalid
command line (nothing was contacted); 3 not found (workflow, schedule, namespace, vault,
bucket, object); 4 Temporal or a cloud endpoint (AWS, GCP) could not be reached, TLS
failures included; 130 'wait' interrupted by Ctrl-C (the workflow keeps running). An error
is one line; with -o json it is one JSON object on stderr, {"error": "...", "exitCode": N,
"details": [...]}, details being the error's chain, which --log-level debug also prints.`,
		Example: `  starter list --flow glacier --status running
  starter status glacier/my-vault/inventory
  starter wait glacier/my-vault/inventory
  starter --address temporal.internal:7233 --namespace ops list -o json`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return a.validateGlobals(cmd) },
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return cli.Usagef("%s (see '%s --help')", err, c.CommandPath())
	})
	root.CompletionOptions.DisableDefaultCmd = true

	pf := root.PersistentFlags()
	pf.StringVarP(&a.flags.output, "output", "o", string(cli.FormatText), "output format: text or json")
	pf.StringVar(&a.flags.taskQueue, "task-queue", workflows.TaskQueue, "task queue new workflows are started on")
	pf.StringVar(&a.flags.address, "address", "", "Temporal frontend host:port (overrides TEMPORAL_ADDRESS; default "+tclient.DefaultAddress+")")
	pf.StringVar(&a.flags.namespace, "namespace", "", "Temporal namespace (overrides TEMPORAL_NAMESPACE; default \""+tclient.DefaultNamespace+"\")")

	root.AddCommand(a.workflowCommands()...)
	root.AddCommand(a.glacierCommands(), a.s3Commands(), a.batchCommands(), a.scheduleCommands(), a.doctorCommand())
	root.AddCommand(a.datastoreCommands(), a.backupCommands(), a.cacheServerCommand())
	root.AddCommand(a.deployCommands())
	a.addOpsFlags(pf)
	root.AddCommand(a.opsCommands()...)
	markRunning(root, a)
	return root
}

// markRunning wraps every RunE in the tree so that a.ranCommand is set when
// a command body starts (see app.execute).
func markRunning(cmd *cobra.Command, a *app) {
	if run := cmd.RunE; run != nil {
		cmd.RunE = func(c *cobra.Command, args []string) error {
			a.ranCommand = true
			a.warnDeprecated(c)
			return run(c, args)
		}
	}
	if cmd.RunE == nil && cmd.Run == nil && cmd.HasParent() && cmd.HasSubCommands() {
		// A command group: an unknown verb is a usage error, not help.
		cmd.RunE = func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cli.Usagef("unknown command %q for '%s' (see '%s --help')", args[0], c.CommandPath(), c.CommandPath())
			}
			return c.Help()
		}
	}
	for _, sub := range cmd.Commands() {
		markRunning(sub, a)
	}
}

// validateGlobals checks the global flags of cmd before anything is
// contacted.
func (a *app) validateGlobals(cmd *cobra.Command) error {
	f, err := cli.ParseFormat(a.flags.output)
	if err != nil {
		moved, merr := a.outputAsTo(cmd)
		if merr != nil {
			return merr
		}
		if !moved {
			return err
		}
		f = cli.FormatText
	}
	a.format = f
	if err := a.validateOps(); err != nil {
		return err
	}
	if strings.TrimSpace(a.flags.taskQueue) == "" || strings.ContainsAny(a.flags.taskQueue, " \t\r\n") {
		return cli.Usagef("--task-queue must be a non-empty name without spaces (got %q)", a.flags.taskQueue)
	}
	if a.flags.address != "" {
		host, port, err := net.SplitHostPort(a.flags.address)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			return cli.Usagef("--address must be host:port (got %q)", a.flags.address)
		}
	}
	if a.flags.namespace != "" && strings.ContainsAny(a.flags.namespace, " \t\r\n/") {
		return cli.Usagef("--namespace must be a namespace name (got %q)", a.flags.namespace)
	}
	return nil
}

// connect dials Temporal with the configured options; the error is one line.
func (a *app) connect(ctx context.Context) (client.Client, error) {
	pc, err := a.payloadCodec()
	if err != nil {
		return nil, err
	}
	co, err := tclient.Load(tclient.Options{
		Address:   a.flags.address,
		Namespace: a.flags.namespace,
		Env:       a.env,
		Logger:    a.logger(),
		Configure: a.configureClient(pc),
	})
	if err != nil {
		return nil, err
	}
	a.namespace, a.address = co.Namespace, co.HostPort
	a.dataConverter = pc.DataConverter()
	c, err := a.dial(ctx, co)
	var de *tclient.DialError
	switch {
	case err == nil, ctx.Err() != nil:
	case errors.As(err, &de) && de.NamespaceNotFound:
		return nil, cli.NotFound(err)
	default:
		return nil, cli.Unreachable(err)
	}
	return c, err
}

// identity names this process in the workflow history (who canceled what).
func identity() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "unknown-host"
	}
	return fmt.Sprintf("starter:%d@%s", os.Getpid(), host)
}

// oneLine collapses whitespace runs that contain newlines so an error never
// spans several lines.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// exactlyOneID is a cobra.PositionalArgs requiring one non-empty workflow ID.
func exactlyOneID(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return cli.Usagef("%s needs exactly one workflow ID (got %d arguments)", cmd.Name(), len(args))
	}
	if strings.TrimSpace(args[0]) == "" {
		return cli.Usagef("%s: the workflow ID must not be empty", cmd.Name())
	}
	if len(args[0]) > maxWorkflowIDLen {
		return cli.Usagef("%s: the workflow ID is %d bytes long; Temporal accepts at most %d", cmd.Name(), len(args[0]), maxWorkflowIDLen)
	}
	return nil
}

// maxWorkflowIDLen is the Temporal server's default limit.maxIDLength.
const maxWorkflowIDLen = 1000
