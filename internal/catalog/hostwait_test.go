package catalog

import (
	"strings"
	"testing"
	"time"

	"github.com/vigilops/vigil/workflows/flowdata"
)

// A backup or restore input (a schedule's) with a hostWait past
// flowdata.MaxHostWait is refused before start; it was accepted unbounded.
func TestHostWaitBoundedInInputs(t *testing.T) {
	long := flowdata.Duration(flowdata.MaxHostWait + time.Hour)
	b := flowdata.BackupInput{Name: "db", Source: "file://db-01/srv/db.dump", Target: "s3://bkt/prod/"}
	if err := ValidateBackup(b, nil); err != nil {
		t.Fatalf("valid backup refused: %v", err)
	}
	b.HostWait = long
	if err := ValidateBackup(b, nil); err == nil || !strings.Contains(err.Error(), "host wait") {
		t.Errorf("backup with hostWait %s: %v, want refused", long, err)
	}
	r := flowdata.RestoreInput{From: "s3://bkt/prod/db/", To: "file://db-01/srv/r.bin", HostWait: flowdata.Duration(flowdata.MaxHostWait)}
	if err := ValidateRestore(r, nil); err != nil {
		t.Fatalf("valid restore refused: %v", err)
	}
	r.HostWait = long
	if err := ValidateRestore(r, nil); err == nil || !strings.Contains(err.Error(), "host wait") {
		t.Errorf("restore with hostWait %s: %v, want refused", long, err)
	}
}
