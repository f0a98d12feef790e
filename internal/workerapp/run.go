package workerapp

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/router"
	"github.com/vigilops/vigil/internal/tclient"
	"github.com/vigilops/vigil/internal/version"
	"github.com/vigilops/vigil/workflows"
)

// Main runs the worker with the command-line args until SIGINT/SIGTERM and
// returns the process exit code: 0 after a clean stop, 1 on a runtime error,
// 2 on bad flags.
func Main(args []string, stdout, stderr io.Writer) int {
	cfg, err := ParseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "worker:", err)
		return 2
	}
	if cfg.Ops.Version {
		fmt.Fprintln(stdout, version.Get())
		return 0
	}
	if cfg.Ops.Probe != "" {
		if err := probe(cfg.Ops.Probe); err != nil {
			fmt.Fprintln(stderr, "worker: probe:", err)
			return 1
		}
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, cfg, stdout, stderr, nil); err != nil {
		fmt.Fprintln(stderr, "worker:", err)
		return 1
	}
	return 0
}

// Ready is told the running worker's endpoints once everything is up
// (tests use it; Main passes nil).
type Ready func(Endpoints)

// Endpoints are the addresses a running worker uses or serves.
type Endpoints struct {
	// TemporalAddress and Namespace of the Temporal server.
	TemporalAddress, Namespace string
	// UIURL is the Web UI (--dev only).
	UIURL string
	// CloudURL is the local cloud endpoint (--dev only).
	CloudURL string
	// DatastoreAddr is the Datastore Admin emulator's host:port (--dev only).
	DatastoreAddr string
	// QueueURLs are the notification queues consumed.
	QueueURLs []string
	// DemoArchives are the demo vault's archives (--dev only).
	DemoArchives []DemoArchive
	// DemoCacheURL is the demo cache server (--dev only).
	DemoCacheURL string
	// MetricsURL is the Prometheus endpoint ("" when metrics are off).
	MetricsURL string
	// ScaleQueue is the task queue whose workers the dev server starts on
	// demand (--dev only; "" when off).
	ScaleQueue string
}

// DemoArchive is a demo vault archive, for the banner and tests.
type DemoArchive struct {
	Description, ID, TreeHash string
	Size                      int64
}

// Run runs the worker until ctx ends, then stops everything it started.
func Run(ctx context.Context, cfg Config, stdout, stderr io.Writer, ready Ready) error {
	var ep Endpoints
	logger, err := cfg.newLogger(stderr)
	if err != nil {
		return err
	}
	if cfg.Ops.CloudOnly {
		return runCloudOnly(ctx, cfg, stdout, logger, ready)
	}
	getenv := os.Getenv
	pc, err := loadCodec(cfg)
	if err != nil {
		return err
	}
	msrv, sdkMetrics, err := startMetrics(cfg, logger)
	if err != nil {
		return err
	}
	if msrv != nil {
		defer msrv.Close()
		ep.MetricsURL = msrv.URL()
	}

	var awsCfg aws.Config
	var stack *devStack
	if cfg.Dev {
		if stack, err = startDev(ctx, cfg, logger); err != nil {
			return err
		}
		defer stack.stop(logger)
		cfg.Address, cfg.Namespace, ep.UIURL, ep.CloudURL = stack.endpoints()
		ep.DatastoreAddr = stack.datastoreAddr()
		ep.ScaleQueue = stack.scaleQueueName()
		awsCfg = awsconf.Local(ep.CloudURL)
		getenv = stack.getenv
	} else {
		if awsCfg, err = awsconf.Load(ctx, ""); err != nil {
			return err
		}
	}

	topts := tclient.Options{Address: cfg.Address, Namespace: cfg.Namespace, Logger: logger,
		Configure: func(co *client.Options) {
			pc.Configure(co)
			if sdkMetrics != nil {
				co.MetricsHandler = sdkMetrics
			}
		}}
	co, err := tclient.Load(topts)
	if err != nil {
		return err
	}
	ep.TemporalAddress, ep.Namespace = co.HostPort, co.Namespace
	c, err := tclient.Dial(ctx, topts)
	if err != nil {
		return err
	}
	defer c.Close()

	deps := &Deps{Temporal: c, DataConverter: pc.DataConverter(), AWS: awsconf.NewClients(awsCfg), Logger: logger, Getenv: getenv, Host: cfg.Host, TaskQueue: cfg.TaskQueue,
		SecretEnv: cfg.secretPolicy(), AllowLinkLocalHTTP: cfg.Secrets.AllowLinkLocalHTTP, Deployment: cfg.Versioning.deploymentOptions(),
		Flows: cfg.Scale.Flows}
	cfg.Versioning.logStart(logger)
	ctx, stopIdle := cfg.Scale.startIdleExit(ctx, deps, logger)
	defer stopIdle()
	logger.Info("runs may read these environment variables", "prefix", deps.SecretEnv.Prefix, "names", deps.SecretEnv.Names,
		"allowLinkLocalHTTP", deps.AllowLinkLocalHTTP)
	rt := router.New(deps.AWS.SQS, router.Options{Logger: logger.With("component", "router")})
	w := worker.New(c, cfg.TaskQueue, WorkerOptions(deps))
	RegisterFlows(w, rt, deps)
	if err := w.Start(); err != nil {
		return fmt.Errorf("starting worker on task queue %q: %w", cfg.TaskQueue, err)
	}
	defer w.Stop()
	hw := NewHostWorker(c, cfg.TaskQueue, deps)
	if err := hw.Start(); err != nil {
		return fmt.Errorf("starting worker on host task queue %q: %w", workflows.HostTaskQueue(cfg.TaskQueue, cfg.Host), err)
	}
	defer hw.Stop()
	if cfg.Dev {
		ep.DemoArchives = stack.installFixtures(ctx, c, deps.AWS, cfg.TaskQueue, logger)
		ep.DemoCacheURL = stack.cacheURL()
	}

	// A worker of part of the flows, or one started on demand, leaves the
	// notifications to the full worker (ScaleConfig.runsRouter).
	if cfg.Scale.runsRouter() {
		var missing []string
		ep.QueueURLs, missing = resolveQueues(ctx, deps.AWS.SQS, cfg.Queues, cfg.Dev, logger)
		routerCtx, stopRouter := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := rt.Run(routerCtx, ep.QueueURLs...); err != nil && !errors.Is(err, context.Canceled) {
				logger.Error("notification router stopped", "error", err)
			}
		}()
		go func() {
			defer wg.Done()
			qw := &queueWatcher{c: c, sqs: deps.AWS.SQS, rt: rt, pending: missing, logger: logger.With("component", "router")}
			qw.run(routerCtx)
		}()
		defer func() { stopRouter(); wg.Wait() }()
	}

	if cfg.Dev {
		printBanner(stdout, ep, cfg)
	} else {
		logger.Info("worker started", "temporal", ep.TemporalAddress, "namespace", ep.Namespace,
			"taskQueue", cfg.TaskQueue, "queues", strings.Join(ep.QueueURLs, ","), "metrics", ep.MetricsURL,
			"payloadKey", pc.KeyID(), "version", version.Get().Version)
	}
	if msrv != nil {
		msrv.SetReady()
	}
	if ready != nil {
		ready(ep)
	}
	<-ctx.Done()
	logger.Info("stopping")
	return nil
}

// NewHostWorker is the worker of d.Host's own task queue: the same
// activities as the shared queue's worker (no workflows), for the
// activities that runs pin to this host.
func NewHostWorker(c client.Client, taskQueue string, d *Deps) worker.Worker {
	opts := WorkerOptions(d)
	opts.DisableWorkflowWorker = true
	hw := worker.New(c, workflows.HostTaskQueue(taskQueue, d.Host), opts)
	// The router is a throwaway: notifications are handled by the shared
	// queue's registration.
	RegisterFlows(activitiesOnly{hw}, router.New(nil, router.Options{}), d)
	return hw
}

// activitiesOnly is a registry that keeps activities and drops workflows:
// a host queue's worker runs no workflow tasks.
type activitiesOnly struct{ worker.Registry }

func (activitiesOnly) RegisterWorkflow(any)                                      {}
func (activitiesOnly) RegisterWorkflowWithOptions(any, workflow.RegisterOptions) {}

// sqsQueueAPI is what resolveQueues needs from the SQS client.
type sqsQueueAPI interface {
	GetQueueUrl(context.Context, *sqs.GetQueueUrlInput, ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	CreateQueue(context.Context, *sqs.CreateQueueInput, ...func(*sqs.Options)) (*sqs.CreateQueueOutput, error)
}

// resolveQueues turns queue names into URLs. In dev mode a missing queue is
// created; otherwise it is reported and returned in missing, which the
// queue watcher keeps looking for (flows rely on their polling fallback
// until `starter ... setup` creates it).
func resolveQueues(ctx context.Context, api sqsQueueAPI, queues []string, create bool, logger *slog.Logger) (urls, missing []string) {
	for _, q := range queues {
		if strings.HasPrefix(q, "https://") || strings.HasPrefix(q, "http://") {
			urls = append(urls, q)
			continue
		}
		var url *string
		if create {
			out, err := api.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(q)})
			if err == nil {
				url = out.QueueUrl
			} else {
				logger.Warn("cannot create notification queue", "queue", q, "error", err)
			}
		} else {
			out, err := api.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(q)})
			if err == nil {
				url = out.QueueUrl
			} else {
				logger.Warn("notification queue not available yet; flows fall back to polling until it exists (see `starter glacier setup`)", "queue", q, "error", err)
				missing = append(missing, q)
			}
		}
		if url != nil {
			urls = append(urls, *url)
		}
	}
	return urls, missing
}
