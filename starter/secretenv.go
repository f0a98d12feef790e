package main

import (
	"fmt"
	"slices"

	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/schedules"
	"github.com/vigilops/vigil/internal/secretenv"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// secretEnvNames lists the worker environment variables a flow's input
// asks the worker to read (auth secrets, webhook variables), in order,
// without repeats.
func secretEnvNames(input any) []string {
	var names []string
	auth := func(b *flowdata.BasicAuth, bearer string) {
		if b != nil {
			names = append(names, b.PasswordEnv)
		}
		names = append(names, bearer)
	}
	httpAuth := func(a *flowdata.HTTPAuth) {
		if a != nil {
			auth(a.BasicAuth, a.BearerTokenEnv)
		}
	}
	pipeline := func(p flowdata.Pipeline) {
		if h := p.Processor.HTTP; h != nil {
			auth(h.BasicAuth, h.BearerTokenEnv)
		}
		names = append(names, p.NotifyOnFailure)
	}
	switch in := input.(type) {
	case flowdata.BackupInput:
		httpAuth(in.Auth)
		names = append(names, in.AlertWebhookEnv)
	case flowdata.RestoreInput:
		httpAuth(in.Auth)
		names = append(names, in.AlertWebhookEnv)
	case workflows.BatchJobInput:
		if h := in.Job.HTTP; h != nil {
			auth(h.BasicAuth, h.BearerTokenEnv)
		}
		names = append(names, in.Job.NotifyOnFailure)
	case flowdata.S3ObjectInput:
		pipeline(in.Pipeline)
	case workflows.S3SweepInput:
		pipeline(in.Pipeline)
	case flowdata.Pipeline:
		pipeline(in)
	case workflows.GlacierRetrieveInput:
		names = append(names, in.AlertWebhookEnv)
	case flowdata.DatastoreExportInput:
		names = append(names, in.Report.WebhookEnv)
	case flowdata.DatastoreImportInput:
		names = append(names, in.Report.WebhookEnv)
	}
	var out []string
	for _, n := range names {
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// warnSecretEnv warns, before a start, about each variable the input
// names that a worker with the default allow-list would refuse (the run
// would fail with SecretEnvNotAllowed). It warns rather than refuses: the
// starter cannot see the worker's --secret-env and --secret-env-prefix.
func (a *app) warnSecretEnv(input any) {
	var p secretenv.Policy
	for _, n := range secretEnvNames(input) {
		if !p.Allowed(n) {
			fmt.Fprintf(a.stderr, "warning: unless the worker allows it, the run fails: %s\n", secretenv.Refusal(secretenv.DefaultPrefix, n))
		}
	}
}

// warnScheduleSecretEnv is warnSecretEnv for the runs of schedules: the
// input of each one's workflow action.
func (a *app) warnScheduleSecretEnv(built []schedules.Built) {
	for _, b := range built {
		if act, ok := b.Options.Action.(*client.ScheduleWorkflowAction); ok {
			for _, in := range act.Args {
				a.warnSecretEnv(in)
			}
		}
	}
}
