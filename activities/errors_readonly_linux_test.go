package activities_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/vigilops/vigil/activities"
)

// readOnlyDir is a directory this process cannot write: mode 0500 for a
// normal user; for root (which ignores modes) a read-only bind mount of
// an empty directory, unmounted at the end. Skipped, with the reason,
// when neither is possible.
func readOnlyDir(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	dir := filepath.Join(base, "ro")
	if err := os.Mkdir(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		return dir
	}
	if err := syscall.Mount(dir, dir, "", syscall.MS_BIND, ""); err != nil {
		t.Skipf("running as root, which ignores mode 0500, and a bind mount is not permitted here: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmounting %s: %v", dir, err)
		}
	})
	if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY, ""); err != nil {
		t.Skipf("running as root, and the bind mount cannot be made read-only: %v", err)
	}
	return dir
}

// A real file system refusal: a write into a directory the process may
// not write (mode 0500; root ignores it, so as root a read-only bind
// mount stands in) is permanent, through the interceptor-level
// classification of the raw error.
func TestClassifyRealReadOnlyDir(t *testing.T) {
	dir := readOnlyDir(t)
	_, err := os.Create(filepath.Join(dir, "r.bin"))
	if err == nil {
		t.Fatal("created a file in a read-only directory")
	}
	got := activities.ClassifyReturned(err)
	if permanentType(got) != activities.ErrTypeLocalPermanent {
		t.Fatalf("ClassifyReturned(%v) = %v, want non-retryable %s", err, got, activities.ErrTypeLocalPermanent)
	}
	t.Logf("classified: %v", got)
}

// #19: a restore to a read-only file system retried for ever (attempt 7
// after 2 minutes). The restore activity returns the raw EROFS of its
// temporary file; the worker's interceptor now makes it LocalPermanent,
// so the run fails at once (before: a retryable error).
func TestRestoreToReadOnlyDirFailsFast(t *testing.T) {
	dir := readOnlyDir(t)
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{&activities.ClassifyInterceptor{}}})
	(&activities.Backup{}).Register(env)
	_, err := env.ExecuteActivity(activities.RestoreStreamName, activities.RestoreStreamInput{
		Object: activities.ObjectRef{Bucket: "backups", Key: "cache/x", Size: 10}, To: "file://" + filepath.Join(dir, "r.bin")})
	if permanentType(err) == "" {
		t.Fatalf("restore into a read-only directory: %v, want a non-retryable error", err)
	}
	t.Logf("failed fast: %v", err)
}
