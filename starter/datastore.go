package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/cli"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// datastoreCommands is `starter datastore ...`.
func (a *app) datastoreCommands() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "datastore",
		Short: "Export and import Datastore with a Slack report",
		Long: `'export' starts the managed Datastore export once, follows its operation (every 5 s for the
first minute, then backing off to 60 s; every 15 s once it is FINALIZING) until it is
done or the deadline passes, and posts one Slack report: green, red, orange (deadline) or
grey (cancelled). 'import' does the same for an import and asks for --yes. 'operations'
lists a project's operations. The worker reaches Datastore with Application Default
Credentials, or the emulator named by ` + activities.DatastoreEndpointEnv + `.`,
		Example: `  starter datastore export --project my-project --to gs://my-backups/datastore/manual --wait
  starter datastore import --project my-project --from gs://my-backups/x/x.overall_export_metadata --yes
  starter datastore operations --project my-project`,
	}
	cmd.AddCommand(a.datastoreExportCommand(), a.datastoreImportCommand(), a.datastoreOperationsCommand())
	return cmd
}

// datastoreFlags are the flags export and import share.
type datastoreFlags struct {
	project, zone, webhookEnv string
	kinds, namespaces, labels []string
	deadline                  time.Duration
	noSlack, wait             bool
}

func (o *datastoreFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.project, "project", "", "GCP project id (default $"+activities.DatastoreProjectEnv+")")
	f.StringSliceVar(&o.kinds, "kinds", nil, "kinds, comma-separated (default all)")
	f.StringSliceVar(&o.namespaces, "namespaces", nil, "namespace ids, comma-separated (default all; '' is the default namespace)")
	f.StringArrayVar(&o.labels, "label", nil, "operation label key=value (repeatable); "+
		"the emulator fails or slows a run labelled vigil-emulator=fail or vigil-emulator=slow")
	f.DurationVar(&o.deadline, "deadline", workflows.DefaultDatastoreDeadline, "report orange if the operation is not done by then"+deadlineMaxHelp)
	f.StringVar(&o.zone, "tz", activities.DefaultDatastoreTimeZone, "time zone of the times in the Slack report")
	f.StringVar(&o.webhookEnv, "webhook-env", "", "worker env var holding the Slack webhook URL (default "+activities.DefaultSlackWebhookEnv+")")
	f.BoolVar(&o.noSlack, "no-slack", false, "do not post a Slack report")
	f.BoolVar(&o.wait, "wait", false, "wait for the outcome, showing progress")
}

// common validates the shared flags into their input form.
func (o *datastoreFlags) common(a *app) (labels map[string]string, report flowdata.DatastoreReport, err error) {
	if o.project == "" {
		o.project = a.lookupEnv(activities.DatastoreProjectEnv)
	}
	if o.project == "" {
		return nil, report, cli.Usagef("--project is required (or set %s)", activities.DatastoreProjectEnv)
	}
	if err := flowdata.CheckProject(o.project); err != nil {
		return nil, report, cli.Usagef("--%v", err)
	}
	if o.deadline <= 0 {
		return nil, report, cli.Usagef("--deadline must be > 0 (got %s)", o.deadline)
	}
	if err := checkWaitFlags(o.deadline, 0); err != nil {
		return nil, report, err
	}
	for _, k := range o.kinds {
		if strings.TrimSpace(k) == "" {
			return nil, report, cli.Usagef("--kinds: empty kind name in the list")
		}
	}
	for _, l := range o.labels {
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" {
			return nil, report, cli.Usagef("--label %q: want key=value", l)
		}
		if labels == nil {
			labels = map[string]string{}
		}
		labels[k] = v
	}
	report = flowdata.DatastoreReport{Disabled: o.noSlack, TimeZone: o.zone, WebhookEnv: o.webhookEnv}
	return labels, report, nil
}

// lookupEnv reads the CLI's environment (tests replace it).
func (a *app) lookupEnv(k string) string {
	if a.env != nil {
		v, _ := a.env.LookupEnv(k)
		return v
	}
	return os.Getenv(k)
}

func (a *app) datastoreExportCommand() *cobra.Command {
	var o datastoreFlags
	var output, bucket string
	cmd := &cobra.Command{
		Use:   "export --project P --to gs://BUCKET/PATH",
		Short: "Export a Datastore project (kinds, namespaces) to Cloud Storage and report to Slack",
		Long: `export starts (or attaches to) the workflow datastore-export/<project>: a second export of
the same project while one runs joins it. The export starts exactly once even if the worker
dies while starting it (the operation carries the run's vigil-run label).`,
		Example: `  starter datastore export --project my-project --to gs://my-backups/datastore/manual --kinds User,Order --wait
  starter datastore export --project demo-project --bucket demo-datastore-backups --label vigil-emulator=fail --wait`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			labels, report, err := o.common(a)
			if err != nil {
				return err
			}
			in := flowdata.DatastoreExportInput{Project: o.project, OutputURLPrefix: output, Bucket: bucket, Kinds: o.kinds,
				Namespaces: o.namespaces, Labels: labels, Deadline: flowdata.Duration(o.deadline), Report: report}
			if output == "" && bucket == "" {
				return cli.Usagef("--to gs://BUCKET/PATH (or --bucket for a dated folder) is required")
			}
			if err := in.Validate(); err != nil {
				return cli.Usagef("%v", err)
			}
			return a.startFlow(cmd.Context(), attach(workflows.DatastoreExportFlow+"/"+o.project), workflows.DatastoreExportName, in, o.wait)
		},
	}
	o.add(cmd)
	cmd.Flags().StringVar(&output, "to", "", "where the export goes: URL prefix gs://BUCKET[/PATH]")
	cmd.Flags().StringVar(&bucket, "bucket", "", "bucket for a dated folder gs://BUCKET/datastore/<start time> (instead of --to)")
	// --output gs://... was this flag's name; it shadowed the global -o.
	cmd.Annotations = map[string]string{outputMeansTo: "to"}
	return cmd
}

func (a *app) datastoreImportCommand() *cobra.Command {
	var o datastoreFlags
	var from string
	var yes bool
	cmd := &cobra.Command{
		Use:   "import --project P --from gs://.../X.overall_export_metadata --yes",
		Short: "Import an export into a Datastore project (writes to the database: needs --yes)",
		Long: `import starts (or attaches to) the workflow datastore-import/<project>. Imported entities
overwrite entities with the same keys, so the command refuses to run without --yes.`,
		Example: `  starter datastore import --project my-project --from gs://my-backups/x/x.overall_export_metadata --yes --wait`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			labels, report, err := o.common(a)
			if err != nil {
				return err
			}
			if from == "" {
				return cli.Usagef("--from gs://.../X.overall_export_metadata is required")
			}
			in := flowdata.DatastoreImportInput{Project: o.project, InputURL: from, Kinds: o.kinds, Namespaces: o.namespaces,
				Labels: labels, Deadline: flowdata.Duration(o.deadline), Report: report}
			if err := in.Validate(); err != nil {
				return cli.Usagef("%v", err)
			}
			if !yes {
				return cli.Usagef("import writes to the database of %s: add --yes to confirm", o.project)
			}
			return a.startFlow(cmd.Context(), attach(workflows.DatastoreImportFlow+"/"+o.project), workflows.DatastoreImportName, in, o.wait)
		},
	}
	o.add(cmd)
	cmd.Flags().StringVar(&from, "from", "", "the export's gs://.../X.overall_export_metadata URL (required)")
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm the import (it overwrites entities)")
	return cmd
}

func (a *app) datastoreOperationsCommand() *cobra.Command {
	var project, endpoint, filter string
	cmd := &cobra.Command{
		Use:   "operations --project P",
		Short: "List a project's export and import operations with state and progress",
		Long: `operations calls the Datastore Admin API from this machine (Application Default Credentials,
or the emulator at --endpoint / $` + activities.DatastoreEndpointEnv + `).`,
		Example: `  starter datastore operations --project my-project
  starter datastore operations --project demo-project --filter labels.scheduled-by=vigil --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if project == "" {
				project = a.lookupEnv(activities.DatastoreProjectEnv)
			}
			if err := flowdata.CheckProject(project); err != nil {
				return cli.Usagef("--%v", err)
			}
			if endpoint == "" {
				endpoint = a.lookupEnv(activities.DatastoreEndpointEnv)
			}
			return a.listDatastoreOperations(cmd.Context(), project, endpoint, filter)
		},
	}
	f := cmd.Flags()
	f.StringVar(&project, "project", "", "GCP project id (default $"+activities.DatastoreProjectEnv+")")
	f.StringVar(&endpoint, "endpoint", "", "Datastore Admin emulator host:port (default $"+activities.DatastoreEndpointEnv+"; empty: the real API)")
	f.StringVar(&filter, "filter", "", "ListOperations filter, e.g. labels.scheduled-by=vigil")
	return cmd
}

func (a *app) listDatastoreOperations(ctx context.Context, project, endpoint, filter string) error {
	c, err := activities.DialDatastoreAdmin(ctx, endpoint)
	if err != nil {
		return fmt.Errorf("datastore admin client: %w", err)
	}
	defer c.Close()
	ops, err := activities.ListOperations(ctx, c, project, filter)
	if err != nil {
		return err
	}
	if a.format == cli.FormatJSON {
		if ops == nil {
			ops = []flowdata.DatastoreOp{}
		}
		return cli.WriteJSON(a.stdout, ops)
	}
	rows := make([][]string, 0, len(ops))
	for _, op := range ops {
		end := "-"
		if !op.End.IsZero() {
			end = op.End.UTC().Format(time.RFC3339)
		}
		where := op.OutputURL
		if where == "" {
			where = op.OutputURLPrefix + op.InputURL
		}
		rows = append(rows, []string{op.Name, strings.TrimSuffix(op.Type, "_ENTITIES"), op.State, activities.Progress(op),
			op.Start.UTC().Format(time.RFC3339), end, where})
	}
	return cli.WriteTable(a.stdout, []string{"OPERATION", "TYPE", "STATE", "PROGRESS", "START", "END", "URL"}, rows)
}
