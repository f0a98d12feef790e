package activities_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
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
	(&activities.S3Restore{Client: c.S3}).Register(env)
	var ra *activities.S3Restore
	restore := func(key string) flowdata.S3RestoreState {
		t.Helper()
		v, err := env.ExecuteActivity(ra.RestoreObject, activities.RestoreInput{Bucket: "restores", Key: key, Days: 1, Tier: flowdata.TierStandard})
		if err != nil {
			t.Fatalf("RestoreObject %s: %v", key, err)
		}
		var st flowdata.S3RestoreState
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
	_, err := env.ExecuteActivity(ra.RestoreObject, activities.RestoreInput{Bucket: "restores", Key: "nope", Days: 1, Tier: flowdata.TierStandard})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeNotFound || !appErr.NonRetryable() {
		t.Errorf("missing object: error %v, want non-retryable %s", err, activities.ErrTypeNotFound)
	}
}

// TestRestoreStateOf maps HeadObject answers to restore states: the
// INTELLIGENT_TIERING archive access tiers (x-amz-archive-status) must be
// restored like GLACIER and DEEP_ARCHIVE.
func TestRestoreStateOf(t *testing.T) {
	expiry := "ongoing-request=\"false\", expiry-date=\"Fri, 21 Dec 2012 00:00:00 GMT\""
	cases := []struct {
		name                           string
		out                            s3.HeadObjectOutput
		archived, ongoing, restored, x bool // x: expiry set
	}{
		{name: "STANDARD", out: s3.HeadObjectOutput{}, restored: true},
		{name: "GLACIER", out: s3.HeadObjectOutput{StorageClass: s3types.StorageClassGlacier}, archived: true},
		{name: "DEEP_ARCHIVE restoring", out: s3.HeadObjectOutput{StorageClass: s3types.StorageClassDeepArchive, Restore: aws.String(`ongoing-request="true"`)},
			archived: true, ongoing: true},
		{name: "DEEP_ARCHIVE restored", out: s3.HeadObjectOutput{StorageClass: s3types.StorageClassDeepArchive, Restore: aws.String(expiry)},
			archived: true, restored: true, x: true},
		{name: "INTELLIGENT_TIERING frequent", out: s3.HeadObjectOutput{StorageClass: s3types.StorageClassIntelligentTiering}, restored: true},
		{name: "INTELLIGENT_TIERING archive", out: s3.HeadObjectOutput{StorageClass: s3types.StorageClassIntelligentTiering,
			ArchiveStatus: s3types.ArchiveStatusArchiveAccess}, archived: true},
		{name: "INTELLIGENT_TIERING deep archive", out: s3.HeadObjectOutput{StorageClass: s3types.StorageClassIntelligentTiering,
			ArchiveStatus: s3types.ArchiveStatusDeepArchiveAccess}, archived: true},
		{name: "INTELLIGENT_TIERING deep archive restoring", out: s3.HeadObjectOutput{StorageClass: s3types.StorageClassIntelligentTiering,
			ArchiveStatus: s3types.ArchiveStatusDeepArchiveAccess, Restore: aws.String(`ongoing-request="true"`)}, archived: true, ongoing: true},
		{name: "INTELLIGENT_TIERING restored", out: s3.HeadObjectOutput{StorageClass: s3types.StorageClassIntelligentTiering,
			Restore: aws.String(`ongoing-request="false"`)}, archived: true, restored: true},
	}
	for _, tc := range cases {
		tc.out.ContentLength = aws.Int64(42)
		st := activities.RestoreStateOf("b", "k", &tc.out)
		if st.NotArchived == tc.archived || st.Ongoing != tc.ongoing || st.Restored != tc.restored || st.Expiry.IsZero() == tc.x ||
			st.Bucket != "b" || st.Key != "k" || st.Size != 42 || st.StorageClass != string(tc.out.StorageClass) || st.Source != "head" {
			t.Errorf("%s: state %+v, want archived %v, ongoing %v, restored %v", tc.name, st, tc.archived, tc.ongoing, tc.restored)
		}
	}
}

// intTiering stands in, in front of the local S3, for S3's Intelligent-
// Tiering archive tiers, which the emulator lacks: HEAD of an
// INTELLIGENT_TIERING object under archived/ carries x-amz-archive-status
// (and x-amz-restore once a restore was asked for), and RestoreObject of
// it is refused with Days (InvalidArgument, as S3 answers) and accepted
// (202) without.
type intTiering struct {
	mu        sync.Mutex
	restoring map[string]bool
	restores  []string // "days" or "no days", per RestoreObject
}

func (it *intTiering) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/tiers/archived/") {
			h.ServeHTTP(w, r)
			return
		}
		it.mu.Lock()
		defer it.mu.Unlock()
		if _, ok := r.URL.Query()["restore"]; ok && r.Method == http.MethodPost {
			body, _ := io.ReadAll(r.Body)
			if bytes.Contains(body, []byte("<Days>")) {
				it.restores = append(it.restores, "days")
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidArgument</Code><Message>INTELLIGENT_TIERING objects are not subject to restore expiry. Do not specify Days when restoring this object</Message></Error>`)
				return
			}
			it.restores = append(it.restores, "no days")
			it.restoring[r.URL.Path] = true
			w.WriteHeader(http.StatusAccepted)
			return
		}
		if r.Method == http.MethodHead {
			w.Header().Set("X-Amz-Archive-Status", "DEEP_ARCHIVE_ACCESS")
			if it.restoring[r.URL.Path] {
				w.Header().Set("X-Amz-Restore", `ongoing-request="true"`)
			}
		}
		h.ServeHTTP(w, r)
	})
}

// TestRestoreIntelligentTieringArchive restores an INTELLIGENT_TIERING
// object in the Deep Archive Access tier with the real SDK client: HEAD's
// x-amz-archive-status makes it archived (not "readable as it is"), and
// the restore is asked for without Days, which S3 refuses for that class.
func TestRestoreIntelligentTieringArchive(t *testing.T) {
	it := &intTiering{restoring: map[string]bool{}}
	cloud, c := stacktest.Cloud(t, localcloud.Options{Wrap: it.wrap})
	if err := cloud.S3.CreateBucket("tiers"); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"archived/old.tar", "hot/new.tar"} {
		if err := cloud.S3.PutArchivedObject("tiers", key, strings.NewReader("0123456789"), 10, "INTELLIGENT_TIERING"); err != nil {
			t.Fatal(err)
		}
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	(&activities.S3Restore{Client: c.S3}).Register(env)
	var ra *activities.S3Restore
	run := func(fn any, in any) flowdata.S3RestoreState {
		t.Helper()
		v, err := env.ExecuteActivity(fn, in)
		if err != nil {
			t.Fatal(err)
		}
		var st flowdata.S3RestoreState
		if err := v.Get(&st); err != nil {
			t.Fatal(err)
		}
		return st
	}

	st := run(ra.HeadRestore, activities.HeadRestoreInput{Bucket: "tiers", Key: "archived/old.tar"})
	if st.NotArchived || st.Restored || st.Ongoing || st.StorageClass != "INTELLIGENT_TIERING" || st.Size != 10 {
		t.Errorf("HEAD of the archived object: %+v, want archived, not restored", st)
	}
	st = run(ra.HeadRestore, activities.HeadRestoreInput{Bucket: "tiers", Key: "hot/new.tar"})
	if !st.NotArchived || !st.Restored {
		t.Errorf("HEAD of the Frequent Access object: %+v, want not archived", st)
	}

	st = run(ra.RestoreObject, activities.RestoreInput{Bucket: "tiers", Key: "archived/old.tar", Days: 7, Tier: flowdata.TierStandard})
	if st.NotArchived || st.Restored || !st.Ongoing || st.Source != "restore" {
		t.Errorf("restore of the archived object: %+v, want ongoing", st)
	}
	if !slices.Equal(it.restores, []string{"days", "no days"}) {
		t.Errorf("RestoreObject requests %q, want one refused with Days, then one without", it.restores)
	}
}
