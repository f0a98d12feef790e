//go:build !nodev

package workerapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/s3bind"
	"github.com/vigilops/vigil/internal/setup"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// DemoInboxBucket is the --dev bucket bound to the demo pipeline: files
// dropped under incoming/ are processed by events (20 % of them lost, by
// default) and by a sweep every minute.
const DemoInboxBucket = "demo-inbox"

// demoInboxPrefix is the bound prefix of DemoInboxBucket.
const demoInboxPrefix = "incoming/"

// demoInboxSchedule sweeps demo-inbox every minute. PIPELINE is replaced by
// the demo pipeline (JSON, which is YAML).
const demoInboxSchedule = `
schedules:
  - id: demo-inbox-sweep
    every: 1m
    workflow: s3-sweep
    note: vigil demo — finds the demo-inbox objects whose S3 event was lost
    input:
      bucket: demo-inbox
      prefix: incoming/
      olderThan: 30s
      pipeline: PIPELINE
`

// demoPipeline is an exec processor that writes one line per object to
// log, on the worker host.
func demoPipeline(log string) flowdata.Pipeline {
	return flowdata.Pipeline{Name: "demo-inbox", Processor: flowdata.Processor{Kind: flowdata.ProcessorExec, Exec: &flowdata.ExecJob{
		Command: "sh",
		Args:    []string{"-c", `printf '%s\t%s\t%s bytes\n' "$(date -u +%FT%TZ)" "$VIGIL_KEY" "$(wc -c < "$VIGIL_PATH")" >> "$LOG"`},
		Env:     map[string]string{"LOG": log},
		Timeout: flowdata.Duration(30e9),
	}}, Retry: &flowdata.JobRetry{InitialInterval: flowdata.Duration(2e9), MaximumAttempts: 3}}
}

// installS3ObjectFixtures creates demo-inbox, sends its ObjectCreated
// events under incoming/ to the notification queue, binds it to the demo
// pipeline and schedules the sweep. `starter s3 generate --bucket
// demo-inbox --count 50` then drops files in.
func installS3ObjectFixtures(ctx context.Context, c client.Client, clients *awsconf.Clients, dataDir, taskQueue string, logger *slog.Logger) error {
	_, err := clients.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(DemoInboxBucket)})
	var owned *s3types.BucketAlreadyOwnedByYou
	var exists *s3types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		return fmt.Errorf("creating %s: %w", DemoInboxBucket, err)
	}
	rep, err := setup.S3Events(ctx, clients, setup.ObjectCreatedEvents(DemoInboxBucket, demoInboxPrefix, NotificationQueue))
	if err != nil {
		return err
	}
	logSetup(logger, rep)
	abs, err := filepath.Abs(filepath.Join(dataDir, "demo-inbox-processed.log"))
	if err != nil {
		return err
	}
	p := demoPipeline(abs)
	if err := s3bind.Bind(ctx, c, taskQueue, flowdata.S3Binding{Bucket: DemoInboxBucket, Prefix: demoInboxPrefix, Pipeline: p}); err != nil {
		return fmt.Errorf("binding %s: %w", DemoInboxBucket, err)
	}
	doc, err := pipelineJSON(p)
	if err != nil {
		return err
	}
	if err := applyDemoSchedules(ctx, c, strings.Replace(demoInboxSchedule, "PIPELINE", doc, 1), taskQueue, logger); err != nil {
		return err
	}
	logger.Info("demo S3 reprocessing ready", "bucket", DemoInboxBucket, "prefix", demoInboxPrefix, "log", abs,
		"try", "starter s3 generate --bucket demo-inbox --prefix incoming/ --count 50")
	return nil
}

// pipelineJSON renders a pipeline as one line of JSON (valid YAML flow).
func pipelineJSON(p flowdata.Pipeline) (string, error) {
	b, err := json.Marshal(p)
	return string(b), err
}
