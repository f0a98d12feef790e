package activities_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/testsuite"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// TestExecDownloadsOrphansRemoved: exec processor copies go to the
// worker's downloads directory; a worker starting on the host removes the
// copies an earlier (killed) worker left there once they are older than
// the maximum age, and never a copy a running command uses, a recent one,
// or a file it did not name.
func TestExecDownloadsOrphansRemoved(t *testing.T) {
	_, c := stacktest.Cloud(t, localcloud.Options{})
	ctx := context.Background()
	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("inbox")}); err != nil {
		t.Fatal(err)
	}
	etag := putObject(t, c.S3, "inbox", "incoming/report 1.csv", "rows")
	tmp := t.TempDir()
	a := &activities.S3Object{Client: c.S3, TempDir: tmp, DownloadMaxAge: time.Hour}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	a.Register(env)
	obj := flowdata.S3ObjectRef{Bucket: "inbox", Key: "incoming/report 1.csv", ETag: etag}
	v, err := env.ExecuteActivity(activities.DownloadObjectName, activities.DownloadInput{Object: obj})
	if err != nil {
		t.Fatal(err)
	}
	var dl activities.DownloadResult
	if err := v.Get(&dl); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, activities.DownloadsDirName)
	if filepath.Dir(dl.Path) != dir || !strings.HasPrefix(filepath.Base(dl.Path), "vigil-s3obj-") || dl.Bytes != 4 {
		t.Fatalf("download %+v, want a vigil-s3obj-* file in %s", dl, dir)
	}

	// What a killed worker leaves: an old copy. Beside it a recent copy
	// and a file vigil did not make.
	old := time.Now().Add(-2 * time.Hour)
	orphan := filepath.Join(dir, "vigil-s3obj-123-orphan.csv")
	recent := filepath.Join(dir, "vigil-s3obj-456-recent.csv")
	foreign := filepath.Join(dir, "notes.txt")
	for _, p := range []string{orphan, recent, foreign} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{orphan, foreign, dl.Path} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}

	// A command runs on the downloaded copy; while it runs (it waits on a
	// FIFO) its copy is in use however old it looks.
	ready, release := filepath.Join(tmp, "ready"), filepath.Join(tmp, "release")
	for _, f := range []string{ready, release} {
		if err := syscall.Mkfifo(f, 0o600); err != nil {
			t.Skipf("no FIFOs here (%v): cannot hold a command running", err)
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := env.ExecuteActivity(activities.RunObjectCommandName, activities.RunObjectCommandInput{Object: obj, Path: dl.Path,
			Exec: flowdata.ExecJob{Command: "sh", Args: []string{"-c", `echo started > "$READY"; read x < "$RELEASE"`},
				Env: map[string]string{"READY": ready, "RELEASE": release}, Timeout: flowdata.Duration(time.Minute)}})
		done <- err
	}()
	rd, err := os.ReadFile(ready) // returns once the command has started
	if err != nil || strings.TrimSpace(string(rd)) != "started" {
		t.Fatalf("command did not start: %q %v", rd, err)
	}
	if err := os.Chtimes(dl.Path, old, old); err != nil {
		t.Fatal(err)
	}
	removed, err := a.CleanDownloads(time.Now())
	if err != nil || len(removed) != 1 || removed[0] != orphan {
		t.Fatalf("clean-up while a command runs removed %v (%v), want only %s", removed, err, orphan)
	}
	if err := os.WriteFile(release, []byte("go\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("command: %v", err)
	}

	// The worker is killed before RemoveDownload: a new worker on the host
	// removes the copy once it is older than the maximum age.
	if err := os.Chtimes(dl.Path, old, old); err != nil {
		t.Fatal(err)
	}
	restarted := &activities.S3Object{Client: c.S3, TempDir: tmp, DownloadMaxAge: time.Hour}
	restarted.StartupCleanDownloads(nil)
	for p, want := range map[string]bool{dl.Path: false, orphan: false, recent: true, foreign: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s exists: %v, want %v", filepath.Base(p), err == nil, want)
		}
	}
	if _, err := env.ExecuteActivity(activities.RemoveDownloadName, foreign); err == nil {
		t.Error("RemoveDownload accepted a file it did not make")
	}
}
