package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/client"
	"go.yaml.in/yaml/v3"

	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/schedules"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// secretSchedule is the ID of the backup schedule the secrets scan runs.
const secretSchedule = "secret-backup"

// runScheduledAndSwept runs, for TestNoSecretInHistoriesOrLogs, the two
// ways runs start without the starter: a backup schedule (built as
// 'starter schedule create' builds it) triggered once, whose http source
// carries urlSecret in its query and authenticates with basic auth, and an
// S3 sweep whose pipeline's http processor URL carries it too and that
// starts the run of one object no event started. It waits for every run
// to end and returns the schedule's ID and how many objects the sweep's
// runs processed.
func runScheduledAndSwept(ctx context.Context, t *testing.T, c client.Client, awsc *awsconf.Clients, api, urlSecret string) (string, int) {
	t.Helper()
	in := filepath.Join(t.TempDir(), "backup.yaml")
	doc := fmt.Sprintf("name: sched\nsource: %q\ntarget: s3://secret-backups/\nauth: {basicAuth: {user: ops, passwordEnv: VIGIL_SECRET_JOB_PASSWORD}}\n",
		api+"/snapshot?sig="+urlSecret)
	if err := os.WriteFile(in, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := schedules.Build(schedules.Spec{ID: secretSchedule, Every: flowdata.Duration(24 * time.Hour), Workflow: workflows.BackupFlow,
		Input: yaml.Node{Kind: yaml.ScalarNode, Value: in}}, "", workflows.TaskQueue)
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.ScheduleClient().Create(ctx, b.Options)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		t.Fatal(err)
	}
	var runID string
	testenv.Eventually(t, time.Minute, 100*time.Millisecond, "the triggered backup started", func() bool {
		d, err := h.Describe(ctx)
		if err != nil || len(d.Info.RecentActions) == 0 {
			return false
		}
		runID = d.Info.RecentActions[0].StartWorkflowResult.WorkflowID
		return true
	})
	if err := c.GetWorkflow(ctx, runID, "").Get(ctx, nil); err != nil {
		t.Fatalf("the scheduled backup %s: %v", runID, err)
	}

	put, err := awsc.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("secret-inbox"), Key: aws.String("sweep/missed.csv"), Body: bytes.NewReader(detBytes(t, 9, 500))})
	if err != nil {
		t.Fatal(err)
	}
	zero := flowdata.Duration(0)
	sweep := workflows.S3SweepInput{Bucket: "secret-inbox", Prefix: "sweep/", OlderThan: &zero, Pipeline: flowdata.Pipeline{Name: "secret-sweep",
		Processor: flowdata.Processor{Kind: "http", HTTP: &flowdata.HTTPProcessor{URL: api + "/process?key=" + urlSecret, BearerTokenEnv: "VIGIL_SECRET_JOB_TOKEN"}}}}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "s3sweep/secret-inbox/sweep/", TaskQueue: workflows.TaskQueue,
		StaticSummary: workflows.StaticSummary(sweep), StaticDetails: workflows.StaticDetails(sweep)}, workflows.S3SweepName, sweep)
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.S3SweepResult
	if err := run.Get(ctx, &res); err != nil || res.Started != 1 {
		t.Fatalf("sweep: %+v, %v; want the one object started", res, err)
	}
	var obj workflows.S3ObjectResult
	id := flowdata.S3ObjectWorkflowID("secret-inbox", "sweep/missed.csv", strings.Trim(aws.ToString(put.ETag), `"`))
	if err := c.GetWorkflow(ctx, id, "").Get(ctx, &obj); err != nil || obj.Outcome != workflows.OutcomeProcessed {
		t.Fatalf("the swept object's run %s: %+v, %v", id, obj, err)
	}
	return secretSchedule, 1
}
