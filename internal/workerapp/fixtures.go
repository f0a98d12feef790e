package workerapp

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"go.temporal.io/sdk/client"
	"go.yaml.in/yaml/v3"

	"github.com/vigilops/vigil/internal/schedules"
)

// demoSchedules are created by --dev so that a new user sees runs appear
// on the Web UI's Schedules page right after start. CLOUD is replaced by
// the local cloud's URL. They are applied like `starter schedule apply`:
// idempotent, and a user's changes to them are kept unless the demo
// definition itself changes.
const demoSchedules = `
schedules:
  - id: demo-http-every-minute
    every: 1m
    workflow: batch
    note: vigil demo — an http job against the dev stack's demo endpoint
    input:
      name: demo-s3dump
      kind: http
      http:
        method: POST
        url: CLOUD/_demo/s3dump
        expectStatus: [200]
        timeout: 10s
      retry: {initialInterval: 2s, maximumAttempts: 3}
  - id: demo-exec-every-5m
    every: 5m
    workflow: batch
    note: vigil demo — an exec job on the worker host
    input:
      name: demo-exec
      kind: exec
      exec:
        command: sh
        args: ["-c", "echo vigil demo job: run $VIGIL_RUN_ID scheduled at $VIGIL_SCHEDULED_TIME; uptime"]
        timeout: 1m
`

// installFixtures applies the demo schedules.
func installFixtures(ctx context.Context, c client.Client, cloudURL, taskQueue string, logger *slog.Logger) error {
	return applyDemoSchedules(ctx, c, strings.ReplaceAll(demoSchedules, "CLOUD", cloudURL), taskQueue, logger)
}

// applyDemoSchedules applies a schedules file like `starter schedule apply`.
func applyDemoSchedules(ctx context.Context, c client.Client, text, taskQueue string, logger *slog.Logger) error {
	var f schedules.File
	if err := yaml.Unmarshal([]byte(text), &f); err != nil {
		return fmt.Errorf("demo schedules: %w", err)
	}
	var built []schedules.Built
	for _, s := range f.Schedules {
		b, err := schedules.Build(s, "", taskQueue)
		if err != nil {
			return fmt.Errorf("demo schedules: %w", err)
		}
		built = append(built, b)
	}
	steps, err := schedules.Plan(ctx, c, built, false)
	if err != nil {
		return err
	}
	if err := schedules.Apply(ctx, c, steps); err != nil {
		return err
	}
	for _, st := range steps {
		if st.Action != schedules.Unchanged {
			logger.Info("demo schedule", "id", st.ID, "action", st.Action)
		}
	}
	return nil
}
