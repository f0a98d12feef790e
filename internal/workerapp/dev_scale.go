//go:build !nodev

package workerapp

import (
	"context"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/devserver"
	"github.com/vigilops/vigil/internal/rollout"
)

// Scale from zero in --dev: the embedded server's worker controller starts
// `worker` as a subprocess when a task reaches --dev-scale-queue and no
// worker polls it; that worker exits after --dev-scale-idle without a task.
const (
	// DevScaleDeployment and DevScaleBuildID name the worker deployment
	// version the queue is routed through.
	DevScaleDeployment = "vigil-dev"
	DevScaleBuildID    = "dev"
	// DevScaleLog, in the data directory, collects the workers' output.
	DevScaleLog = "autoscaled-workers.log"
)

// startAutoScale sets up the scale-from-zero queue; a failure is logged,
// the rest of the stack runs without it.
func (s *devStack) startAutoScale(ctx context.Context, cfg Config, logger *slog.Logger) {
	if cfg.Scale.DevQueue == "" {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		logger.Warn("scale from zero not set up: cannot find this program", "error", err)
		return
	}
	address, namespace, _, cloudURL := s.endpoints()
	args := []string{"--address", address, "--namespace", namespace, "--task-queue", cfg.Scale.DevQueue,
		"--exit-when-idle", cfg.Scale.DevIdle.String(), "--host", cfg.Host, "--log-level", cfg.LogLevel, "--log-format", cfg.Ops.LogFormat,
		"--secret-env-prefix", cfg.Secrets.EnvPrefix, "--allow-link-local-http=" + strconv.FormatBool(cfg.Secrets.AllowLinkLocalHTTP)}
	for _, n := range cfg.Secrets.EnvNames {
		args = append(args, "--secret-env", n)
	}
	if cfg.Ops.CodecKeysFile != "" {
		args = append(args, "--codec-keys-file", cfg.Ops.CodecKeysFile)
	}
	// The compute config is stored by the server: only the local stack's
	// values go in. The workers inherit this process's environment, real
	// secrets included, from it directly.
	env := []string{"AWS_ENDPOINT_URL=" + cloudURL, "AWS_REGION=" + awsconf.LocalRegion,
		"AWS_ACCESS_KEY_ID=" + awsconf.LocalAccessKey, "AWS_SECRET_ACCESS_KEY=" + awsconf.LocalSecretKey,
		activities.DatastoreEndpointEnv + "=" + s.datastoreAddr(),
		rollout.DeploymentNameEnv + "=" + DevScaleDeployment, rollout.BuildIDEnv + "=" + DevScaleBuildID}
	// The dev stack's demo values (the Slack sink, the cache server's
	// password, the Datastore project) reach the on-demand workers as they
	// reach the main one: a real variable of this process wins and is
	// inherited, the demo default is passed only where none is set.
	for _, k := range slices.Sorted(maps.Keys(s.env)) {
		if os.Getenv(k) == "" && !slices.ContainsFunc(env, func(e string) bool { return strings.HasPrefix(e, k+"=") }) {
			env = append(env, k+"="+s.env[k])
		}
	}
	// --dev allows the demo cache password (secretPolicy); the on-demand
	// workers run without --dev, so they are told.
	args = append(args, "--secret-env", DevCachePasswordEnv)
	err = s.temporal.AutoScale(ctx, devserver.AutoScaleOptions{
		DeploymentName: DevScaleDeployment, BuildID: DevScaleBuildID, TaskQueue: cfg.Scale.DevQueue,
		Command: exe, Args: args, Env: env, LogFile: filepath.Join(cfg.DataDir, DevScaleLog),
	})
	if err != nil {
		logger.Warn("scale from zero not set up", "queue", cfg.Scale.DevQueue, "error", err)
		return
	}
	s.scaleQueue = cfg.Scale.DevQueue
}

// scaleQueueName is the scale-from-zero queue, "" when it is off.
func (s *devStack) scaleQueueName() string { return s.scaleQueue }
