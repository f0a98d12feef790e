package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/catalog"
	"github.com/vigilops/vigil/internal/cli"
	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// backupCommands is `starter backup ...`.
func (a *app) backupCommands() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Back sources up to S3 (streamed, verified, with retention) and restore them",
		Long: `run backs a source up into s3://bucket/prefix/<name>/<UTC timestamp>.<ext>: one streaming
multipart upload with its SHA-256 computed on the way and stored in the object's metadata,
an optional re-read (--verify), then <name>/latest.json moves to it, then retention deletes
old backups (never before a success, never the newest). restore streams a backup back to a
file, a directory or an http endpoint, checking the SHA-256. list shows the stored backups.
Hourly backups: starter schedule create ... --workflow backup.`,
		Example: `  starter backup run --name cache --from http://cache:8080/snapshot --user vigil --password-env CACHE_PASSWORD --to s3://demo-backups/ --keep 24 --verify --wait
  starter backup restore --from s3://demo-backups/cache/ --to file:///srv/cache.bin --wait
  starter backup list s3://demo-backups/cache/`,
	}
	cmd.AddCommand(a.backupRunCommand(), a.backupRestoreCommand(), a.backupListCommand())
	return cmd
}

// authFlags are the http auth flags of run and restore.
type authFlags struct {
	user, passwordEnv, bearerEnv string
}

func (f *authFlags) add(cmd *cobra.Command, what string) {
	cmd.Flags().StringVar(&f.user, "user", "", "basic-auth user for an http "+what)
	cmd.Flags().StringVar(&f.passwordEnv, "password-env", "", "env var holding the basic-auth password (read by the worker; never sent in the workflow)")
	cmd.Flags().StringVar(&f.bearerEnv, "bearer-env", "", "env var holding a bearer token (read by the worker)")
}

func (f *authFlags) auth() (*flowdata.HTTPAuth, error) {
	if f.user == "" && f.passwordEnv == "" && f.bearerEnv == "" {
		return nil, nil
	}
	a := &flowdata.HTTPAuth{BearerTokenEnv: f.bearerEnv}
	if f.user != "" || f.passwordEnv != "" {
		if f.user == "" || f.passwordEnv == "" {
			return nil, cli.Usagef("basic auth needs both --user and --password-env")
		}
		a.BasicAuth = &flowdata.BasicAuth{User: f.user, PasswordEnv: f.passwordEnv}
	}
	return a, nil
}

// envCheck is the getenv the starter checks auth env vars with, unless
// the worker runs elsewhere (--skip-env-check).
func envCheck(skip bool) func(string) string {
	if skip {
		return nil
	}
	return os.Getenv
}

func (a *app) backupRunCommand() *cobra.Command {
	var in flowdata.BackupInput
	var af authFlags
	var maxAge string
	var partMiB int64
	var wait, skipEnv bool
	var hf hostFlags
	cmd := &cobra.Command{
		Use:   "run --name N --from URL --to s3://bucket/prefix/",
		Short: "Back a source up now",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			auth, err := af.auth()
			if err != nil {
				return err
			}
			in.Auth = auth
			age, err := parseAge(maxAge)
			if err != nil {
				return cli.Usagef("--max-age %q: %v", maxAge, err)
			}
			in.MaxAge, in.PartSize = flowdata.Duration(age), partMiB<<20
			if in.HostWait, err = hf.hostWait(); err != nil {
				return err
			}
			if err := catalog.ValidateBackup(in, envCheck(skipEnv)); err != nil {
				return cli.Usagef("backup: %v", err)
			}
			if err := a.checkHosts(cmd.Context(), in, hf.allowUnknown); err != nil {
				return err
			}
			id := workflows.BackupWorkflowID(in.Name, time.Now())
			return a.startFlow(cmd.Context(), client.StartWorkflowOptions{ID: id}, workflows.BackupName, in, wait)
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.Name, "name", "", "backup name: objects go under <prefix><name>/ (required)")
	f.StringVar(&in.Source, "from", "", "what to back up: http(s)://..., file:///abs/path, dir:/abs/path or s3://bucket/key (required)")
	deprecatedAlias(cmd, "source", "from")
	f.StringVar(&in.Target, "to", "", "s3://bucket/prefix/ (required)")
	f.IntVar(&in.Keep, "keep", 0, "keep the newest N backups (0: no count limit)")
	f.StringVar(&maxAge, "max-age", "", "keep backups newer than this (7d, 36h; with --keep, either keeps)")
	f.BoolVar(&in.Verify, "verify", false, "re-read the stored object and compare its SHA-256 before latest.json moves")
	f.StringVar(&in.Compression, "compression", "", "dir sources: zstd (default) or gzip")
	f.Int64Var(&partMiB, "part-size", 0, "multipart part size in MiB (default 8)")
	f.IntVar(&in.Concurrency, "concurrency", 0, "parts uploaded at once (default 4)")
	f.StringVar(&in.SSE, "sse", "", "server-side encryption: AES256 or aws:kms")
	f.StringVar(&in.KMSKeyID, "kms-key-id", "", "KMS key for --sse aws:kms")
	f.StringVar(&in.StorageClass, "storage-class", "", "storage class of the objects (e.g. STANDARD_IA)")
	f.StringVar(&in.Host, "host", "", "file/dir sources: the worker host that reads them (default: the host of file://HOST/path, else any one, for the whole run, named in the result)")
	f.StringVar(&in.AlertWebhookEnv, "alert-webhook-env", "", "worker env var holding the Slack webhook for alerts (default "+activities.DefaultSlackWebhookEnv+")")
	f.BoolVar(&in.NotifySuccess, "notify-success", false, "post a one-line Slack summary of a successful run too")
	f.BoolVar(&skipEnv, "skip-env-check", false, "do not check here that the auth env vars are set (the worker runs elsewhere)")
	f.BoolVar(&wait, "wait", false, "wait for the outcome, showing progress")
	hf.add(cmd, true)
	af.add(cmd, "source")
	return cmd
}

func (a *app) backupRestoreCommand() *cobra.Command {
	var in flowdata.RestoreInput
	var af authFlags
	var wait, skipEnv bool
	var hf hostFlags
	cmd := &cobra.Command{
		Use:   "restore --from s3://bucket/prefix/name/ [--at TIMESTAMP] --to DEST",
		Short: "Restore the latest backup (or the one of --at) to a file, a directory or an http endpoint",
		Long: `restore finds the backup (latest.json, or --at TIMESTAMP as 'backup list' shows it, or
--from naming one object), streams it to DEST and checks its SHA-256 on the way. A mismatch
fails with ChecksumMismatch and leaves DEST as it was: a file is written beside it and renamed
when verified, a directory is extracted beside it and swapped in, an http body is cut short.`,
		Example: `  starter backup restore --from s3://demo-backups/cache/ --to http://127.0.0.1:8090/snapshot --user vigil --password-env CACHE_PASSWORD --wait
  starter backup restore --from s3://demo-backups/site/ --at 20261201T030000Z --to dir:/srv/site`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			auth, err := af.auth()
			if err != nil {
				return err
			}
			in.Auth = auth
			if in.HostWait, err = hf.hostWait(); err != nil {
				return err
			}
			if err := catalog.ValidateRestore(in, envCheck(skipEnv)); err != nil {
				return cli.Usagef("restore: %v", err)
			}
			if err := a.checkHosts(cmd.Context(), in, hf.allowUnknown); err != nil {
				return err
			}
			id := workflows.RestoreWorkflowID(in.From, in.To, time.Now())
			return a.startFlow(cmd.Context(), client.StartWorkflowOptions{ID: id}, workflows.RestoreName, in, wait)
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.From, "from", "", "s3://bucket/prefix/name/ or one backup's s3:// URL (required)")
	f.StringVar(&in.At, "at", "", "the backup of this UTC timestamp (e.g. 20261201T030000Z)")
	f.StringVar(&in.To, "to", "", "file:///abs/path, dir:/abs/path or http(s)://... (required)")
	f.StringVar(&in.Method, "method", "", "http destinations: PUT (default) or POST")
	f.StringVar(&in.Host, "host", "", "file/dir destinations: the worker host to write on (default: the host of file://HOST/path, else any one, named in the result)")
	f.StringVar(&in.Verify, "verify", "", "file destinations: full re-reads the restored file from disk and checks its SHA-256 again before it replaces the destination")
	f.StringVar(&in.AlertWebhookEnv, "alert-webhook-env", "", "worker env var holding the Slack webhook for alerts")
	f.BoolVar(&skipEnv, "skip-env-check", false, "do not check here that the auth env vars are set")
	f.BoolVar(&wait, "wait", false, "wait for the outcome, showing progress")
	hf.add(cmd, true)
	af.add(cmd, "destination")
	return cmd
}

func (a *app) backupListCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "list s3://bucket/prefix/name/",
		Short:   "List a backup name's stored backups: time, size, SHA-256, which is latest",
		Example: "  starter backup list s3://demo-backups/cache/\n  starter backup list s3://demo-backups/cache/ -o json",
		Args:    exactlyOneArg("s3://bucket/prefix/name/"),
		RunE: func(cmd *cobra.Command, args []string) error {
			loc, err := location.Parse(args[0])
			if err != nil {
				return cli.Usagef("%v", err)
			}
			if loc.Scheme != location.S3 {
				return cli.Usagef("%s: want s3://bucket/prefix/name/", args[0])
			}
			dir := loc.Key
			if dir != "" && !strings.HasSuffix(dir, "/") {
				dir += "/"
			}
			return a.listBackups(cmd.Context(), loc.Bucket, dir)
		},
	}
}

func (a *app) listBackups(ctx context.Context, bucket, dir string) error {
	aw, err := a.awsClients(ctx)
	if err != nil {
		return err
	}
	entries, err := activities.ListBackups(ctx, aw.S3, bucket, dir, true)
	if cli.IsNotFound(err) {
		return cli.NotFound(fmt.Errorf("no such bucket %q (listing s3://%s/%s)", bucket, bucket, dir))
	}
	if err != nil {
		return fmt.Errorf("listing backups: %w", err)
	}
	if latest, err := activities.ReadLatest(ctx, aw.S3, bucket, dir); err == nil {
		for i := range entries {
			entries[i].Latest = entries[i].Key == latest.Key
			if entries[i].Latest && entries[i].SHA256 == "" {
				entries[i].SHA256 = latest.SHA256
			}
		}
	}
	if a.format == cli.FormatJSON {
		if entries == nil {
			entries = []flowdata.BackupEntry{}
		}
		return cli.WriteJSON(a.stdout, entries)
	}
	if len(entries) == 0 {
		fmt.Fprintf(a.stderr, "no backups under s3://%s/%s\n", bucket, dir)
		return nil
	}
	rows := make([][]string, 0, len(entries))
	for _, e := range entries {
		latest := ""
		if e.Latest {
			latest = "latest"
		}
		rows = append(rows, []string{e.Time.UTC().Format(flowdata.BackupTimeFormat), cli.FormatBytes(e.Size), e.SHA256, latest, "s3://" + bucket + "/" + e.Key})
	}
	return cli.WriteTable(a.stdout, []string{"TIME", "SIZE", "SHA256", "", "OBJECT"}, rows)
}

// parseAge reads a retention age: a Go duration or a whole number of
// days ("7d"); empty is 0.
func parseAge(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("want a positive number of days like 7d, or a duration like 36h")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("want a positive number of days like 7d, or a duration like 36h")
	}
	return d, nil
}

// exactlyOneArg requires one positional argument, named in the error.
func exactlyOneArg(name string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return cli.Usagef("want one argument, %s", name)
		}
		return nil
	}
}
