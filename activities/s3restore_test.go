package activities_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/spec"
)

// TestRestoreObjectNotArchived restores a STANDARD object with the real
// SDK client against the local S3: S3 answers ObjectAlreadyInActiveTier,
// and the state still carries the object's size for the delivery.
func TestRestoreObjectNotArchived(t *testing.T) {
	cloud, c := stacktest.Cloud(t, localcloud.Options{TierDelays: map[string]time.Duration{"Standard": time.Hour}})
	if err := cloud.S3.CreateBucket("restores"); err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("vigil "), 12345)
	if err := cloud.S3.PutObject("restores", "hot/report.csv", bytes.NewReader(data), int64(len(data)), nil); err != nil {
		t.Fatal(err)
	}
	if err := cloud.S3.PutArchivedObject("restores", "cold/backup.tar", bytes.NewReader(data[:1000]), 1000, "DEEP_ARCHIVE"); err != nil {
		t.Fatal(err)
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(&activities.S3Restore{Client: c.S3})
	var ra *activities.S3Restore
	restore := func(key string) spec.S3RestoreState {
		t.Helper()
		v, err := env.ExecuteActivity(ra.RestoreObject, activities.RestoreInput{Bucket: "restores", Key: key, Days: 1, Tier: spec.TierStandard})
		if err != nil {
			t.Fatalf("RestoreObject %s: %v", key, err)
		}
		var st spec.S3RestoreState
		if err := v.Get(&st); err != nil {
			t.Fatal(err)
		}
		return st
	}

	st := restore("hot/report.csv")
	if !st.NotArchived || !st.Restored || st.Ongoing || st.Source != "restore" || !st.Expiry.IsZero() {
		t.Errorf("STANDARD object: state %+v, want not archived, restored, source restore, no expiry", st)
	}
	if st.Size != int64(len(data)) || st.Bucket != "restores" || st.Key != "hot/report.csv" {
		t.Errorf("STANDARD object: size %d of s3://%s/%s, want %d of s3://restores/hot/report.csv", st.Size, st.Bucket, st.Key, len(data))
	}

	// Printed, a result without an expiry shows none (not year 1).
	for _, v := range []any{st, workflows.S3RestoreResult{NotArchived: true, Bytes: st.Size}} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), `"expiry"`) {
			t.Errorf("%T printed as %s: zero expiry shown", v, b)
		}
	}
	if b, _ := json.Marshal(workflows.S3RestoreResult{Expiry: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)}); !strings.Contains(string(b), `"expiry":"2026-12-02T00:00:00Z"`) {
		t.Errorf("result with an expiry printed as %s", b)
	}

	// An archived object, for contrast: the restore starts and is not done.
	st = restore("cold/backup.tar")
	if st.NotArchived || st.Restored || !st.Ongoing || st.Size != 1000 || st.StorageClass != "DEEP_ARCHIVE" {
		t.Errorf("DEEP_ARCHIVE object: state %+v, want ongoing, archived, 1000 bytes", st)
	}

	// A missing object is an error that retrying cannot fix.
	_, err := env.ExecuteActivity(ra.RestoreObject, activities.RestoreInput{Bucket: "restores", Key: "nope", Days: 1, Tier: spec.TierStandard})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeNotFound || !appErr.NonRetryable() {
		t.Errorf("missing object: error %v, want non-retryable %s", err, activities.ErrTypeNotFound)
	}
}
