package main

import (
	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/cli"
	"github.com/vigilops/vigil/internal/jobspec"
	"github.com/vigilops/vigil/internal/schedules"
	"github.com/vigilops/vigil/workflows"
)

func (a *app) batchCommands() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "batch",
		Short: "Run batch jobs (http, exec, s3-put, sqs-send) once or on a classic cron",
		Example: `  starter batch run --job-file jobs/nightly-dump.yaml --wait
  starter batch run --job-file jobs/nightly-dump.yaml --cron "20 * * * *"`,
	}
	cmd.AddCommand(a.batchRunCommand())
	return cmd
}

func (a *app) batchRunCommand() *cobra.Command {
	var file, cron, id string
	var wait bool
	var hf hostFlags
	cmd := &cobra.Command{
		Use:   "run --job-file FILE [--cron EXPR] [--wait]",
		Short: "Start a batch job now (or as a Temporal cron workflow with --cron)",
		Long: `run validates the job file (see README.md for every key), then starts BatchJobWorkflow.
Without --cron it is a one-off run, ID batch/<job name>/<UTC time>. With --cron it is a classic
Temporal cron workflow, ID batch/<job name>/cron; prefer 'starter schedule' for new setups
(pause, backfill, overlap policies, alerts).` + fileFormatHelp("Job file", "jobs/nightly.yaml", "job.schema.json") + `

A job of kind exec (examples/jobs/disk-report.yaml) has an exec section instead:
  exec: {command: df, args: ["-h", "/"], timeout: 1m}`,
		Example: `  starter batch run --job-file examples/jobs/nightly.yaml --wait
  starter batch run --job-file examples/jobs/disk-report.yaml --cron "*/5 * * * *"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return cli.Usagef("--job-file is required")
			}
			job, err := jobspec.ReadFile(file)
			if err != nil {
				return cli.Usagef("%v", err)
			}
			if cron != "" {
				if err := schedules.ValidateCron(cron); err != nil {
					return cli.Usagef("--cron %q: %v", cron, err)
				}
				if wait {
					return cli.Usagef("--wait does not go with --cron (a cron workflow never ends)")
				}
			}
			if id == "" {
				id = "batch/" + job.Name + "/" + a.now().UTC().Format("20060102T150405Z")
				if cron != "" {
					id = "batch/" + job.Name + "/cron"
				}
			}
			in := workflows.BatchJobInput{Job: job}
			if err := a.checkHosts(cmd.Context(), in, hf.allowUnknown); err != nil {
				return err
			}
			return a.startFlow(cmd.Context(), client.StartWorkflowOptions{ID: id, CronSchedule: cron},
				workflows.BatchJobName, in, wait)
		},
	}
	f := cmd.Flags()
	f.StringVar(&file, "job-file", "", "job spec, YAML or JSON (required)")
	f.StringVar(&cron, "cron", "", "run as a Temporal cron workflow on this 5-field cron expression")
	f.StringVar(&id, "id", "", "workflow ID (default batch/<name>/<time>)")
	f.BoolVar(&wait, "wait", false, "wait for the outcome, showing the attempt and last error")
	hf.add(cmd, false)
	return cmd
}
