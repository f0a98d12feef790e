// Package workerapp is the vigil worker: configuration, clients, workflow and
// activity registration, the notification router and, with --dev, the whole
// local stack (embedded Temporal server and Web UI, local cloud) in one
// process. worker/main.go only calls Main.
package workerapp

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows"
)

// Default ports of the local stack (Temporal CLI and LocalStack habits).
const (
	DefaultTemporalPort  = 7233
	DefaultUIPort        = 8233
	DefaultCloudPort     = 4566
	DefaultDatastorePort = 8086
	DefaultDataDir       = ".vigil"
)

// NotificationQueue is the SQS queue every setup command uses unless told
// otherwise, and that the worker consumes by default.
const NotificationQueue = "vigil-notifications"

// Config is the worker's configuration, from flags.
type Config struct {
	// Dev starts the local stack in-process.
	Dev bool
	// DataDir keeps the local stack's state (--dev only).
	DataDir string
	// Ports of the local stack (--dev only); 0 picks a free port.
	TemporalPort, UIPort, CloudPort, DatastorePort int
	// TaskQueue the worker polls.
	TaskQueue string
	// Queues are SQS queue names or URLs the notification router consumes.
	Queues []string
	// Address and Namespace override the Temporal connection settings.
	Address, Namespace string
	// Host names this worker's host: it also polls the host's task queue
	// (workflows.HostTaskQueue), where activities on this host's files run.
	Host string
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// S3DropRate, S3DuplicateRate and S3DelayMax are the local S3's event
	// faults (--dev only; see s3lite.EventFaults).
	S3DropRate, S3DuplicateRate float64
	S3DelayMax                  time.Duration
	// Ops are the operational flags (ops.go).
	Ops OpsConfig
	// DevFaults makes the local cloud fail or slow a fraction of calls
	// (--dev only; localcloud.ParseFaults syntax), to rehearse throttling.
	DevFaults string
	// Secrets are the secret-env allow-list and the link-local rule
	// (secrets.go).
	Secrets SecretsConfig
	// Versioning is the Worker Deployment version (versioning.go).
	Versioning VersioningConfig
	// Scale are the flags of a worker pool that scales alone (scale.go).
	Scale ScaleConfig
}

type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// ParseFlags reads the command line. Errors are one line, suitable to print
// as they are; -h prints the help to out and returns flag.ErrHelp.
func ParseFlags(args []string, out io.Writer) (Config, error) {
	cfg := Config{}
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.BoolVar(&cfg.Dev, "dev", false, "run the local stack in this process: embedded Temporal server and Web UI, local cloud (S3, SQS, SNS, Slack sink)")
	fs.StringVar(&cfg.DataDir, "data-dir", DefaultDataDir, "directory for the local stack's state (--dev)")
	fs.IntVar(&cfg.TemporalPort, "temporal-port", DefaultTemporalPort, "Temporal frontend gRPC port (--dev)")
	fs.IntVar(&cfg.UIPort, "ui-port", DefaultUIPort, "Temporal Web UI port (--dev)")
	fs.IntVar(&cfg.CloudPort, "cloud-port", DefaultCloudPort, "local cloud port, all AWS services and the Slack sink (--dev)")
	fs.IntVar(&cfg.DatastorePort, "datastore-port", DefaultDatastorePort, "Datastore Admin emulator gRPC port (--dev)")
	fs.StringVar(&cfg.TaskQueue, "task-queue", workflows.TaskQueue, "Temporal task queue to poll")
	queues := listFlag{}
	fs.Var(&queues, "queue", "SQS queue name or URL the notification router consumes (repeatable, comma-separated; default "+NotificationQueue+")")
	fs.StringVar(&cfg.Host, "host", activities.DefaultHostName(), "this worker's host name: it also polls the host's own task queue, where activities on this host's files (file:// destinations, exec processors, file and dir backups) run; file://HOST/path names it")
	fs.StringVar(&cfg.Address, "address", "", "Temporal host:port (overrides TEMPORAL_ADDRESS and the config profile)")
	fs.StringVar(&cfg.Namespace, "namespace", "", "Temporal namespace (overrides TEMPORAL_NAMESPACE and the config profile)")
	fs.StringVar(&cfg.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.Float64Var(&cfg.S3DropRate, "s3-drop-rate", 0.2, "fraction of the local S3's ObjectCreated events lost, as S3 sometimes does (--dev)")
	fs.Float64Var(&cfg.S3DuplicateRate, "s3-duplicate-rate", 0, "fraction of the local S3's ObjectCreated events sent twice (--dev)")
	fs.DurationVar(&cfg.S3DelayMax, "s3-delay-max", 0, "each local S3 ObjectCreated event waits a random 0..this before it is sent (--dev)")
	addOpsFlags(fs, &cfg.Ops)
	addSecretsFlags(fs, &cfg.Secrets)
	addVersioningFlags(fs, &cfg.Versioning)
	addScaleFlags(fs, &cfg.Scale)
	fs.StringVar(&cfg.DevFaults, "dev-faults", "", "local cloud fault injection (--dev): service[:Operation]=rate[@latency],... e.g. s3=0.2,sqs=0.2,glacier=0.2@50ms")
	fs.Usage = func() {
		fmt.Fprint(out, `Usage: worker [flags]

Runs vigil's Temporal worker and notification router.

  worker --dev            local stack in one process (state in .vigil/)
  worker                  production: Temporal from TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE /
                          TEMPORAL_PROFILE (TLS and API key too), AWS from the SDK's default
                          chain (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL, ...)

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q (see worker -h)", fs.Arg(0))
	}
	cfg.Queues = queues
	if len(cfg.Queues) == 0 {
		cfg.Queues = []string{NotificationQueue}
	}
	if _, err := cfg.slogLevel(); err != nil {
		return cfg, err
	}
	if err := cfg.Ops.validate(); err != nil {
		return cfg, err
	}
	if err := cfg.Secrets.validate(); err != nil {
		return cfg, err
	}
	if err := cfg.Versioning.validate(); err != nil {
		return cfg, err
	}
	if err := cfg.Scale.validate(cfg.Dev, cfg.TaskQueue); err != nil {
		return cfg, err
	}
	if cfg.Host == "" || strings.ContainsAny(cfg.Host, "/@ ") {
		return cfg, fmt.Errorf("--host %q: want a host name without '/', '@' or spaces", cfg.Host)
	}
	if cfg.TaskQueue == "" {
		return cfg, errors.New("--task-queue must not be empty")
	}
	for _, p := range []struct {
		name string
		v    int
	}{{"temporal-port", cfg.TemporalPort}, {"ui-port", cfg.UIPort}, {"cloud-port", cfg.CloudPort}, {"datastore-port", cfg.DatastorePort}} {
		if p.v < 0 || p.v > 65535 {
			return cfg, fmt.Errorf("--%s %d is not a port number", p.name, p.v)
		}
	}
	return cfg, nil
}

func (c Config) slogLevel() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}
