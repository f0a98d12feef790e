//go:build !nodev

package workerapp

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/s3bind"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// checkDemoInbox checks the --dev S3 reprocessing fixtures: demo-inbox is
// bound, its sweep is scheduled, and the demo pipeline processes a file
// (written to the data dir's log) and archives it.
func checkDemoInbox(t *testing.T, c client.Client, ep Endpoints, dataDir string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bs, err := s3bind.List(ctx, c)
	if err != nil || len(bs) != 1 || bs[0].Bucket != DemoInboxBucket || bs[0].Prefix != "incoming/" {
		t.Fatalf("bindings %+v %v", bs, err)
	}
	if _, err := c.ScheduleClient().GetHandle(ctx, "demo-inbox-sweep").Describe(ctx); err != nil {
		t.Errorf("sweep schedule: %v", err)
	}
	aws3 := awsconf.NewClients(awsconf.Local(ep.CloudURL)).S3
	key := "incoming/hello world.txt"
	put, err := aws3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(DemoInboxBucket), Key: aws.String(key), Body: strings.NewReader("hello")})
	if err != nil {
		t.Fatal(err)
	}
	// Whether or not the (lossy) event came, this run is the object's.
	in := flowdata.S3ObjectInput{Object: flowdata.S3ObjectRef{Bucket: DemoInboxBucket, Key: key, ETag: strings.Trim(aws.ToString(put.ETag), `"`)},
		Pipeline: bs[0].Pipeline, Source: flowdata.SourceManual}
	run, err := c.ExecuteWorkflow(ctx, activities.S3ObjectStartOptions(workflows.TaskQueue, in, enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING),
		workflows.S3ObjectName, in)
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.S3ObjectResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res.Outcome != workflows.OutcomeProcessed && res.Outcome != workflows.OutcomeAlreadyProcessed {
		t.Fatalf("demo run %+v", res)
	}
	b, err := os.ReadFile(filepath.Join(dataDir, "demo-inbox-processed.log"))
	if err != nil || !strings.Contains(string(b), key+"\t5 bytes") {
		t.Errorf("demo log %q %v", b, err)
	}
}
