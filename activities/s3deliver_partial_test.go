package activities_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/testsuite"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/location"
)

// TestDeliverObjectPartialPerWorkflow: an S3 restore delivery to a file
// writes a partial file named for its workflow (the same for every
// attempt, so a retry resumes in it), so the partial file of another
// restore to the same path — here one under the name shared by every run
// before — is left alone, and the object is published whole.
func TestDeliverObjectPartialPerWorkflow(t *testing.T) {
	c, _ := newDeliverStack(t, "dl-own")
	ctx := context.Background()
	data := randomBytes(7, 8, 1<<20+3)
	if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("dl-own"), Key: aws.String("dump.bin"), Body: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dump.bin")
	others := map[string][]byte{
		path + activities.PartialSuffix:                       []byte("the other restore's bytes"),
		activities.PartialFor(path, "restore/other-workflow"): []byte("another restore's bytes"),
	}
	for p, b := range others {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var partial string
	activities.SetAfterDownload(t, func(p string) { partial = p })
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	(&activities.S3{Client: c.S3}).Register(env)
	var s3a *activities.S3
	if _, err := env.ExecuteActivity(s3a.DeliverObject, activities.DeliverObjectInput{Bucket: "dl-own", Key: "dump.bin",
		Dest: "file://" + path, Size: int64(len(data))}); err != nil {
		t.Fatal(err)
	}
	if want := activities.PartialFor(path, activities.TestWorkflowID); partial != want {
		t.Errorf("partial file %s, want the workflow's own %s", partial, want)
	}
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, data) {
		t.Errorf("published %d bytes (%v), want the object's %d", len(got), err, len(data))
	}
	for p, b := range others {
		if got, err := os.ReadFile(p); err != nil || !bytes.Equal(got, b) {
			t.Errorf("another restore's partial file %s: %q, %v; want it untouched", filepath.Base(p), got, err)
		}
	}
}

// TestAbortDestinationRemovesWorkflowPartial: the clean-up of a failed or
// cancelled S3 restore delivery passes only the destination; it removes
// the partial file (and its token) the delivery named for its workflow.
func TestAbortDestinationRemovesWorkflowPartial(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dump.bin")
	partial := activities.PartialFor(path, activities.TestWorkflowID)
	for _, p := range []string{partial, partial + activities.IdentitySuffix} {
		if err := os.WriteFile(p, []byte("left"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	dest, err := location.Parse("file://" + path)
	if err != nil {
		t.Fatal(err)
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	sinks := &activities.Sinks{}
	sinks.Register(env)
	if _, err := env.ExecuteActivity(sinks.AbortDestination, activities.Prepared{Dest: dest}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{partial, partial + activities.IdentitySuffix} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s left after the clean-up: %v", filepath.Base(p), err)
		}
	}
}
