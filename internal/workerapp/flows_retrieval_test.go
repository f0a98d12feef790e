package workerapp

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vigilops/vigil/internal/router"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
)

// TestRestoreSignalCarriesVersion parses the shared ObjectRestore:Completed
// sample with the real router parser, as is and as a versioned bucket sends
// it (s3.object.versionId), and checks the signal the handler sends.
func TestRestoreSignalCarriesVersion(t *testing.T) {
	body, err := os.ReadFile("../router/testdata/samples/s3-object-restore-completed.json")
	if err != nil {
		t.Fatal(err)
	}
	const key = `"key": "db/2025/full.tar.zst",`
	if !strings.Contains(string(body), key) {
		t.Fatalf("sample lacks %s", key)
	}
	versioned := strings.Replace(string(body), key, key+` "versionId": "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY",`, 1)
	for _, tc := range []struct {
		name, body, version string
	}{
		{"unversioned", string(body), ""},
		{"versioned", versioned, "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := router.Parse(tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if n.Kind != router.KindS3Event || len(n.S3) != 1 {
				t.Fatalf("parsed %+v, want one S3 record", n)
			}
			id, st, ok := restoreSignal(n.S3[0])
			if !ok {
				t.Fatal("ObjectRestore:Completed record not signalled")
			}
			if id != workflows.S3RestoreWorkflowID("example-archive", "db/2025/full.tar.zst") || st.Bucket != "example-archive" ||
				st.Key != "db/2025/full.tar.zst" || st.VersionID != tc.version || !st.Restored || st.Source != "notification" ||
				!st.Expiry.Equal(time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)) || st.StorageClass != "DEEP_ARCHIVE" {
				t.Errorf("signal to %s: %+v", id, st)
			}
			b, err := json.Marshal(st)
			if err != nil {
				t.Fatal(err)
			}
			if has := strings.Contains(string(b), `"versionId"`); has != (tc.version != "") {
				t.Errorf("payload %s: versionId present %v, want %v", b, has, tc.version != "")
			}
		})
	}

	// Other events of the key signal nothing.
	if _, _, ok := restoreSignal(router.S3Record{EventName: "ObjectRestore:Post", Bucket: "b", Key: "k"}); ok {
		t.Error("ObjectRestore:Post signalled")
	}
}

// TestGlacierNotificationsVigilDidNotStartAreDropped: a completion whose
// JobDescription is not a vigil workflow ID, or names a workflow that is
// not running, is logged and dropped (nil: the message is deleted, not
// redelivered), against a real Temporal server.
func TestGlacierNotificationsVigilDidNotStartAreDropped(t *testing.T) {
	ts := testenv.NewTemporal(t)
	var logs syncBuffer
	d := &Deps{Temporal: testenv.NewClient(t, ts), Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	ctx := context.Background()
	for _, desc := range []string{"", "nightly backup", workflows.GlacierWorkflowID("v", "gone")} {
		j := &router.GlacierJob{JobID: "job-1", JobDescription: desc, StatusCode: "Succeeded", Completed: true}
		if err := signalGlacierJob(ctx, d, j, router.MessageInfo{MessageID: "m-" + desc}); err != nil {
			t.Errorf("description %q: %v, want the notification dropped", desc, err)
		}
	}
	out := logs.String()
	if strings.Count(out, "did not start; dropped") != 2 || !strings.Contains(out, "not running; dropped") {
		t.Errorf("logs do not say each notification was dropped:\n%s", out)
	}
}
