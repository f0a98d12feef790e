//go:build !nodev

package workerapp

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/devserver"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/localcloud/dsemu"
	"github.com/vigilops/vigil/workflows"
)

// SlackWebhookEnv names the worker environment variable holding the Slack
// incoming-webhook URL. In --dev it defaults to the local Slack sink.
const SlackWebhookEnv = "VIGIL_SLACK_WEBHOOK_URL"

// devStack is the local stack started by --dev.
type devStack struct {
	temporal  *devserver.Server
	cloud     *localcloud.Cloud
	datastore *dsemu.Listener
	env       map[string]string
	dataDir   string
	cache     *devCache
	// scaleQueue is the scale-from-zero queue once set up (dev_scale.go).
	scaleQueue string
}

func startDev(ctx context.Context, cfg Config, logger *slog.Logger) (*devStack, error) {
	host := "127.0.0.1"
	faults, err := localcloud.ParseFaults(cfg.DevFaults)
	if err != nil {
		return nil, fmt.Errorf("--dev-faults: %w", err)
	}
	if cfg.CloudPort != 0 {
		if err := devserver.CheckPortFree(host, cfg.CloudPort); err != nil {
			return nil, err
		}
	}
	sa := map[string]enumspb.IndexedValueType{}
	for _, name := range workflows.SearchAttributes {
		sa[name] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
	}
	ts, err := devserver.Start(ctx, devserver.Options{
		DataDir:          filepath.Join(cfg.DataDir, "temporal"),
		IP:               host,
		FrontendPort:     cfg.TemporalPort,
		UIPort:           cfg.UIPort,
		SearchAttributes: sa,
		Logger:           logger,
		WorkerController: cfg.Scale.DevQueue != "",
	})
	if err != nil {
		return nil, err
	}
	cloud, err := localcloud.Start(localcloud.Options{
		Addr:       net.JoinHostPort(host, strconv.Itoa(cfg.CloudPort)),
		DataDir:    filepath.Join(cfg.DataDir, "cloud"),
		Logger:     logger.With("component", "cloud"),
		S3DropRate: cfg.S3DropRate, S3DuplicateRate: cfg.S3DuplicateRate, S3DelayMax: cfg.S3DelayMax,
		Faults: faults,
	})
	if err != nil {
		_ = ts.Stop()
		return nil, err
	}
	s := &devStack{temporal: ts, cloud: cloud, env: map[string]string{
		SlackWebhookEnv: cloud.URL() + "/_slack/vigil",
	}, dataDir: cfg.DataDir}
	if err := s.startDatastore(host, cfg.DatastorePort, logger); err != nil {
		s.stop(logger)
		return nil, err
	}
	if err := s.startCache(logger); err != nil {
		logger.Warn("demo cache server not started", "error", err)
	}
	s.startAutoScale(ctx, cfg, logger)
	return s, nil
}

// endpoints are the stack's Temporal address and namespace, Web UI and
// local cloud URLs.
func (s *devStack) endpoints() (address, namespace, uiURL, cloudURL string) {
	return s.temporal.FrontendAddr(), s.temporal.Namespace(), s.temporal.UIURL(), s.cloud.URL()
}

// installFixtures creates the demo schedules and the demo cloud data; a
// failure is logged, it does not stop the worker.
func (s *devStack) installFixtures(ctx context.Context, c client.Client, clients *awsconf.Clients, taskQueue string, logger *slog.Logger) []DemoArchive {
	if err := installFixtures(ctx, c, s.cloud.URL(), taskQueue, logger); err != nil {
		logger.Warn("demo fixtures not installed", "error", err)
	}
	if err := installDatastoreFixtures(ctx, c, taskQueue, logger); err != nil {
		logger.Warn("demo Datastore fixtures not installed", "error", err)
	}
	if err := installS3ObjectFixtures(ctx, c, clients, s.dataDir, taskQueue, logger); err != nil {
		logger.Warn("demo S3 reprocessing fixtures not installed", "error", err)
	}
	if err := s.installBackupFixtures(ctx, c, clients, taskQueue, logger); err != nil {
		logger.Warn("demo backup fixtures not installed", "error", err)
	}
	if err := installExamplesFixtures(ctx, clients, logger); err != nil {
		logger.Warn("examples bucket not installed", "error", err)
	}
	demo, err := installCloudFixtures(ctx, s.cloud, clients, logger)
	if err != nil {
		logger.Warn("demo cloud fixtures not installed", "error", err)
	}
	return demo
}

// getenv prefers the real environment and falls back to the dev defaults.
func (s *devStack) getenv(k string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return s.env[k]
}

func (s *devStack) stop(logger *slog.Logger) {
	if s.datastore != nil {
		_ = s.datastore.Close()
	}
	s.stopCache()
	if err := s.cloud.Close(); err != nil {
		logger.Warn("stopping local cloud", "error", err)
	}
	if err := s.temporal.Stop(); err != nil {
		logger.Warn("stopping Temporal server", "error", err)
	}
}

func printBanner(out io.Writer, ep Endpoints, cfg Config) {
	fmt.Fprintf(out, "\nvigil dev stack is up (state in %s)\n\n", cfg.DataDir)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  Temporal\t%s (namespace %s)\n", ep.TemporalAddress, ep.Namespace)
	fmt.Fprintf(tw, "  Web UI\t%s\n", ep.UIURL)
	fmt.Fprintf(tw, "  Local cloud\t%s (S3, SQS, SNS, Glacier; Slack sink at /_slack/, messages at /_slack/messages)\n", ep.CloudURL)
	fmt.Fprintf(tw, "  Datastore Admin\t%s (emulator, project %s; %s=%s)\n", ep.DatastoreAddr, DemoDatastoreProject, activities.DatastoreEndpointEnv, ep.DatastoreAddr)
	fmt.Fprintf(tw, "  Task queue\t%s\n", cfg.TaskQueue)
	if ep.ScaleQueue != "" {
		fmt.Fprintf(tw, "  Scale from zero\t%s (a worker starts on demand, exits after %s idle; log %s)\n", ep.ScaleQueue, cfg.Scale.DevIdle,
			filepath.Join(cfg.DataDir, DevScaleLog))
	}
	if ep.MetricsURL != "" {
		fmt.Fprintf(tw, "  Metrics\t%s\n", ep.MetricsURL)
	}
	for _, q := range ep.QueueURLs {
		fmt.Fprintf(tw, "  Notifications\t%s\n", q)
	}
	tw.Flush()
	fmt.Fprintf(out, `
In another shell:
  export TEMPORAL_ADDRESS=%s TEMPORAL_NAMESPACE=%s
  export AWS_ENDPOINT_URL=%s AWS_REGION=%s AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s
  go run ./starter list
`, ep.TemporalAddress, ep.Namespace, ep.CloudURL, awsconf.LocalRegion, awsconf.LocalAccessKey, awsconf.LocalSecretKey)
	printDemoCommands(out, ep)
	printDatastoreCommands(out, ep)
	printBackupCommands(out, ep.DemoCacheURL)
	fmt.Fprintln(out, "\nCtrl-C stops everything; state is kept for the next start.")
}

// printDemoCommands shows a retrieval to try against the demo fixtures.
func printDemoCommands(out io.Writer, ep Endpoints) {
	for _, a := range ep.DemoArchives {
		if a.Size < 256<<20 {
			continue
		}
		fmt.Fprintf(out, "\nRetrieve the demo archive %s (%d MiB) from %s; Expedited jobs take %s here:\n", a.Description, a.Size>>20,
			DemoVault, localcloud.DevTierDelays["Expedited"])
		fmt.Fprintf(out, "  go run ./starter glacier retrieve --vault %s --archive-id %s --tier Expedited --to file:///tmp/%s --wait\n",
			DemoVault, a.ID, a.Description)
	}
	if len(ep.DemoArchives) > 0 {
		fmt.Fprintf(out, "\nRestore a DEEP_ARCHIVE object of s3://%s (Standard restores take %s here):\n", DemoArchiveBucket, localcloud.DevTierDelays["Standard"])
		fmt.Fprintf(out, "  go run ./starter s3 restore --bucket %s --key %s --to file:///tmp/full.dump --wait\n", DemoArchiveBucket, demoObjects[0].description)
	}
}

// datastoreAddr is the Datastore Admin emulator's address.
func (s *devStack) datastoreAddr() string {
	if s.datastore == nil {
		return ""
	}
	return s.datastore.Addr()
}
