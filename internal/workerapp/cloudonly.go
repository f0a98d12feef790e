package workerapp

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"

	"github.com/vigilops/vigil/internal/localcloud"
)

// runCloudOnly serves the local cloud (S3, SQS, SNS, Glacier, Slack sink)
// alone until ctx ends: the compose deployment's stand-in for AWS, next to
// a real Temporal server. State is kept in --data-dir/cloud.
func runCloudOnly(ctx context.Context, cfg Config, stdout io.Writer, logger *slog.Logger, ready Ready) error {
	cloud, err := localcloud.Start(localcloud.Options{
		Addr:    net.JoinHostPort(cfg.Ops.CloudBind, strconv.Itoa(cfg.CloudPort)),
		DataDir: filepath.Join(cfg.DataDir, "cloud"),
		Logger:  logger.With("component", "cloud"),
	})
	if err != nil {
		return err
	}
	defer func() {
		if err := cloud.Close(); err != nil {
			logger.Warn("stopping local cloud", "error", err)
		}
	}()
	fmt.Fprintf(stdout, "vigil local cloud is up at %s (%v; state in %s)\n", cloud.URL(), cloud.Names(), cfg.DataDir)
	if ready != nil {
		ready(Endpoints{CloudURL: cloud.URL()})
	}
	<-ctx.Done()
	logger.Info("stopping")
	return nil
}
