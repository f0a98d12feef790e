//go:build !nodev

package workerapp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.yaml.in/yaml/v3"

	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/cacheserver"
	"github.com/vigilops/vigil/internal/detdata"
	"github.com/vigilops/vigil/internal/schedules"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// The --dev backup demo: the cache server with 64 MiB of deterministic
// data, the bucket demo-backups, an hourly backup schedule and one backup
// run at start.
const (
	DemoBackupBucket = "demo-backups"
	devCachePassword = "vigil-dev-cache"
	devCacheUser     = "vigil"
	devCachePort     = "8090"
	devCacheSeed     = 2026
)

// devCache is the demo cache server.
type devCache struct {
	srv *http.Server
	url string
}

// startCache starts the demo cache server on 127.0.0.1:8090 (another free
// port if that one is taken), filled with deterministic bytes.
func (s *devStack) startCache(logger *slog.Logger) error {
	ln, err := net.Listen("tcp", "127.0.0.1:"+devCachePort)
	if err != nil {
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return err
		}
	}
	cs := cacheserver.New(cacheserver.Options{User: devCacheUser, Password: s.getenvOr(DevCachePasswordEnv, devCachePassword),
		Logger: logger.With("component", "cache")})
	if err := cs.Fill(detdata.New(devCacheSeed, cs.Size())); err != nil {
		ln.Close()
		return err
	}
	cs.SetReady(true, "")
	s.env[DevCachePasswordEnv] = devCachePassword
	s.cache = &devCache{srv: &http.Server{Handler: cs.Handler(), ReadHeaderTimeout: 10 * time.Second}, url: "http://" + ln.Addr().String()}
	go func() {
		if err := s.cache.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Warn("demo cache server stopped", "error", err)
		}
	}()
	return nil
}

func (s *devStack) getenvOr(k, def string) string {
	if v := s.getenv(k); v != "" {
		return v
	}
	return def
}

// cacheURL is the demo cache server's URL ("" without one).
func (s *devStack) cacheURL() string {
	if s.cache == nil {
		return ""
	}
	return s.cache.url
}

func (s *devStack) stopCache() {
	if s.cache != nil {
		_ = s.cache.srv.Close()
	}
}

// demoBackupInput is the demo backup of the cache server.
func demoBackupInput(cacheURL string) flowdata.BackupInput {
	return flowdata.BackupInput{Name: "cache", Source: cacheURL + "/snapshot", Target: "s3://" + DemoBackupBucket + "/",
		Auth: &flowdata.HTTPAuth{BasicAuth: &flowdata.BasicAuth{User: devCacheUser, PasswordEnv: DevCachePasswordEnv}},
		Keep: 24, Verify: true}
}

// installBackupFixtures creates the bucket, the hourly schedule and
// starts one backup now.
func (s *devStack) installBackupFixtures(ctx context.Context, c client.Client, clients *awsconf.Clients, taskQueue string, logger *slog.Logger) error {
	if s.cache == nil {
		return nil
	}
	if _, err := clients.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(DemoBackupBucket)}); err != nil {
		var owned *s3types.BucketAlreadyOwnedByYou
		var exists *s3types.BucketAlreadyExists
		if !errors.As(err, &owned) && !errors.As(err, &exists) {
			return fmt.Errorf("bucket %s: %w", DemoBackupBucket, err)
		}
	}
	in := demoBackupInput(s.cache.url)
	var node yaml.Node
	if err := node.Encode(in); err != nil {
		return err
	}
	b, err := schedules.Build(schedules.Spec{ID: "demo-backup-cache-hourly", Every: flowdata.Duration(time.Hour), Workflow: workflows.BackupFlow,
		Note: "vigil demo — hourly backup of the demo cache server", Input: node}, "", taskQueue)
	if err != nil {
		return fmt.Errorf("demo backup schedule: %w", err)
	}
	steps, err := schedules.Plan(ctx, c, []schedules.Built{b}, false)
	if err == nil {
		err = schedules.Apply(ctx, c, steps)
	}
	if err != nil {
		return fmt.Errorf("demo backup schedule: %w", err)
	}
	id := workflows.BackupWorkflowID(in.Name, time.Now())
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, StaticSummary: in.StaticSummary(),
		StaticDetails: flowdata.StaticDetails(in)}, workflows.BackupName, in); err != nil {
		return fmt.Errorf("demo backup: %w", err)
	}
	logger.Info("demo backup started", "workflowId", id, "cache", s.cache.url)
	return nil
}

// printBackupCommands shows the demo cache server and how to list and
// restore its backups.
func printBackupCommands(out io.Writer, cacheURL string) {
	if cacheURL == "" {
		return
	}
	fmt.Fprintf(out, "\nDemo cache server at %s (user %s, password in $%s=%s); backed up hourly to s3://%s/cache/:\n",
		cacheURL, devCacheUser, DevCachePasswordEnv, devCachePassword, DemoBackupBucket)
	fmt.Fprintf(out, "  go run ./starter backup list s3://%s/cache/\n", DemoBackupBucket)
	fmt.Fprintf(out, "  %s=%s go run ./starter backup restore --from s3://%s/cache/ --to %s/snapshot --user %s --password-env %s --wait\n",
		DevCachePasswordEnv, devCachePassword, DemoBackupBucket, cacheURL, devCacheUser, DevCachePasswordEnv)
	fmt.Fprintf(out, "  go run ./starter backup restore --from s3://%s/cache/ --to file:///tmp/cache.bin --wait\n", DemoBackupBucket)
}
