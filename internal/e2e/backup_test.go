package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/encoding/prototext"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/cacheserver"
	"github.com/vigilops/vigil/internal/detdata"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

const (
	cachePassword = "pa55-word-never-in-history"
	backupsBucket = "demo-backups"
)

// backupStack is the real stack: temporaltest server, local cloud (S3
// store under dataDir), one worker with every flow, whose environment has
// CACHE_PASSWORD.
type backupStack struct {
	t       *testing.T
	c       client.Client
	aws     *awsconf.Clients
	dataDir string
}

func newBackupStack(t *testing.T) *backupStack {
	ts := testenv.NewTemporal(t)
	dir := t.TempDir()
	_, awsc := stacktest.Cloud(t, localcloud.Options{DataDir: dir})
	if _, err := awsc.S3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(backupsBucket)}); err != nil {
		t.Fatal(err)
	}
	stacktest.StartWorker(t, ts, awsc, func(k string) string {
		if k == "CACHE_PASSWORD" {
			return cachePassword
		}
		return ""
	})
	return &backupStack{t: t, c: testenv.NewClient(t, ts), aws: awsc, dataDir: dir}
}

// run executes a workflow to its end and returns its ID and error.
func (s *backupStack) run(name string, in, out any) (string, error) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	id := fmt.Sprintf("%s-%d", name, time.Now().UnixNano())
	r, err := s.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue}, name, in)
	if err != nil {
		s.t.Fatal(err)
	}
	return id, r.Get(ctx, out)
}

// history is a workflow's whole history as text, payloads included.
func (s *backupStack) history(id string) string {
	var b strings.Builder
	it := s.c.GetWorkflowHistory(context.Background(), id, "", false, 0)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			s.t.Fatal(err)
		}
		j, _ := prototext.Marshal(ev) // payload bytes appear as (escaped) text
		b.Write(j)
	}
	return b.String()
}

func (s *backupStack) keys(prefix string) []string {
	out, err := s.aws.S3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(backupsBucket), Prefix: aws.String(prefix)})
	if err != nil {
		s.t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

func (s *backupStack) openUploads() int {
	out, err := s.aws.S3.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(backupsBucket)})
	if err != nil {
		s.t.Fatal(err)
	}
	return len(out.Uploads)
}

func appErrType(err error) string {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return ae.Type()
	}
	return ""
}

func startCache(t *testing.T, size int64) (*cacheserver.Server, string) {
	s := cacheserver.New(cacheserver.Options{Size: size, User: "vigil", Password: cachePassword})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return s, srv.URL
}

func cacheGet(t *testing.T, url string) []byte {
	req, _ := http.NewRequest(http.MethodGet, url+"/snapshot", nil)
	req.SetBasicAuth("vigil", cachePassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /snapshot: %d %v", resp.StatusCode, err)
	}
	return b
}

var cacheAuth = &flowdata.HTTPAuth{BasicAuth: &flowdata.BasicAuth{User: "vigil", PasswordEnv: "CACHE_PASSWORD"}}

// TestBackupCacheServerRoundTrip backs the cache server up (with verify
// and retention over three older backups), changes it, restores it, and
// gets the backed-up bytes back; retention kept exactly N, no upload is
// left open, and the password appears in no history. A second cache
// server started with --restore-from's Restore gets the same bytes.
func TestBackupCacheServerRoundTrip(t *testing.T) {
	s := newBackupStack(t)
	ctx := context.Background()
	const size = 12 << 20
	cache, url := startCache(t, size)
	if err := cache.Fill(detdata.New(42, size)); err != nil {
		t.Fatal(err)
	}
	want := cacheGet(t, url)
	old := []string{"20261101T000000Z", "20261102T000000Z", "20261103T000000Z"}
	for _, ts := range old {
		if _, err := s.aws.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(backupsBucket), Key: aws.String("cache/" + ts + ".bin"),
			Body: strings.NewReader("old " + ts)}); err != nil {
			t.Fatal(err)
		}
	}
	var res flowdata.BackupResult
	bid, err := s.run(workflows.BackupName, flowdata.BackupInput{Name: "cache", Source: url + "/snapshot", Target: "s3://" + backupsBucket + "/",
		Auth: cacheAuth, Keep: 2, Verify: true, PartSize: 5 << 20}, &res)
	if err != nil {
		t.Fatal(err)
	}
	if res.Bytes != size || !res.Verified || len(res.Deleted) != 2 {
		t.Errorf("backup result %+v", res)
	}
	keys := s.keys("cache/")
	wantKeys := []string{"cache/20261103T000000Z.bin", res.Key, "cache/latest.json"}
	if strings.Join(keys, ",") != strings.Join(wantKeys, ",") {
		t.Errorf("after retention: %v, want %v (keep 2: the new one and the newest old one)", keys, wantKeys)
	}
	if n := s.openUploads(); n != 0 {
		t.Errorf("%d multipart uploads left open", n)
	}

	// Change the cache, then restore it.
	req, _ := http.NewRequest(http.MethodPut, url+"/cells/100", strings.NewReader(fmt.Sprintf(`{"value": %d}`, int(want[100])^1)))
	req.SetBasicAuth("vigil", cachePassword)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("changing a cell: %v %v", resp, err)
	}
	if bytes.Equal(cacheGet(t, url), want) {
		t.Fatal("the cell did not change")
	}
	var rres flowdata.RestoreResult
	rid, err := s.run(workflows.RestoreName, flowdata.RestoreInput{From: "s3://" + backupsBucket + "/cache/", To: url + "/snapshot", Auth: cacheAuth}, &rres)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cacheGet(t, url), want) || rres.Key != res.Key || rres.SHA256 != res.SHA256 {
		t.Errorf("restore %+v did not bring back the backed-up bytes", rres)
	}

	// A fresh server restores itself at start.
	fresh, freshURL := startCache(t, size)
	if err := fresh.Restore(ctx, cacheserver.RestoreOptions{Client: s.c, TaskQueue: workflows.TaskQueue, From: "s3://" + backupsBucket + "/cache/",
		SelfURL: freshURL, User: "vigil", PasswordEnv: "CACHE_PASSWORD"}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cacheGet(t, freshURL), want) {
		t.Error("the restored-at-start server does not hold the backup")
	}
	for _, id := range []string{bid, rid} {
		if h := s.history(id); strings.Contains(h, cachePassword) || !strings.Contains(h, "CACHE_PASSWORD") {
			t.Errorf("history of %s: password present %v, env name present %v", id, strings.Contains(h, cachePassword), strings.Contains(h, "CACHE_PASSWORD"))
		}
	}
}

// TestCacheServerRestoreFromNoBackupStartsEmpty: no backup yet → ready and
// empty (the replaced server refused to start).
func TestCacheServerRestoreFromNoBackupStartsEmpty(t *testing.T) {
	s := newBackupStack(t)
	cache, url := startCache(t, 1<<20)
	err := cache.Restore(context.Background(), cacheserver.RestoreOptions{Client: s.c, TaskQueue: workflows.TaskQueue,
		From: "s3://" + backupsBucket + "/nothing-yet/", SelfURL: url, User: "vigil", PasswordEnv: "CACHE_PASSWORD"})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(url + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", resp, err)
	}
	resp.Body.Close()
	if !bytes.Equal(cacheGet(t, url), make([]byte, 1<<20)) {
		t.Error("the cache is not empty")
	}
	// The restore run completed (no failure, so no failure alert) and
	// says it found nothing.
	testenv.Eventually(t, 30*time.Second, 100*time.Millisecond, "the restore run listed as completed", func() bool {
		resp, err := s.c.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("WorkflowType = %q AND ExecutionStatus = 'Completed'", workflows.RestoreName)})
		return err == nil && len(resp.GetExecutions()) == 1
	})
	resp2, err := s.c.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: fmt.Sprintf("WorkflowType = %q", workflows.RestoreName)})
	if err != nil || len(resp2.GetExecutions()) != 1 {
		t.Fatalf("restore runs: %v, %v; want one", resp2, err)
	}
	var res flowdata.RestoreResult
	e := resp2.GetExecutions()[0].GetExecution()
	if err := s.c.GetWorkflow(context.Background(), e.GetWorkflowId(), e.GetRunId()).Get(context.Background(), &res); err != nil || !res.NoBackup {
		t.Errorf("restore result %+v, %v; want NoBackup", res, err)
	}
}

// TestBackupCorruptedRestoreFailsUntouched: a stored backup damaged behind
// the emulator's back fails the restore with ChecksumMismatch, and the
// destination file keeps its content.
func TestBackupCorruptedRestoreFailsUntouched(t *testing.T) {
	s := newBackupStack(t)
	src := filepath.Join(t.TempDir(), "db.dump")
	data, _ := io.ReadAll(detdata.New(5, 3<<20))
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var res flowdata.BackupResult
	if _, err := s.run(workflows.BackupName, flowdata.BackupInput{Name: "db", Source: "file://" + src, Target: "s3://" + backupsBucket + "/prod"}, &res); err != nil {
		t.Fatal(err)
	}
	if err := stacktest.FlipByte(s.dataDir, backupsBucket, res.Key, 1<<20); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "db.dump")
	if err := os.WriteFile(dest, []byte("yesterday's restore"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := s.run(workflows.RestoreName, flowdata.RestoreInput{From: "s3://" + backupsBucket + "/prod/db/", To: "file://" + dest}, nil)
	if appErrType(err) != activities.ErrTypeChecksumMismatch {
		t.Fatalf("restore of a damaged backup: %v, want ChecksumMismatch", err)
	}
	if got, _ := os.ReadFile(dest); string(got) != "yesterday's restore" {
		t.Errorf("destination changed (%d bytes)", len(got))
	}
}

// TestBackupMissingSourceWritesNothing: a missing file fails clearly and
// leaves no object, no latest.json and no upload.
func TestBackupMissingSourceWritesNothing(t *testing.T) {
	s := newBackupStack(t)
	_, err := s.run(workflows.BackupName, flowdata.BackupInput{Name: "gone", Source: "file:///nonexistent/vigil/db.dump", Target: "s3://" + backupsBucket + "/", Keep: 1}, nil)
	if appErrType(err) != activities.ErrTypeNotFound || !strings.Contains(err.Error(), "/nonexistent/vigil/db.dump does not exist") {
		t.Fatalf("err = %v, want NotFound naming the path", err)
	}
	if keys := s.keys(""); len(keys) != 0 || s.openUploads() != 0 {
		t.Errorf("objects %v, open uploads %d", keys, s.openUploads())
	}
}

// TestBackupDirRoundTrip: a directory comes back with its contents, modes
// and symlinks.
func TestBackupDirRoundTrip(t *testing.T) {
	s := newBackupStack(t)
	src := filepath.Join(t.TempDir(), "site")
	must(t, os.MkdirAll(filepath.Join(src, "bin"), 0o755))
	must(t, os.WriteFile(filepath.Join(src, "bin", "run"), []byte("#!/bin/sh\n"), 0o755))
	must(t, os.WriteFile(filepath.Join(src, "secret.key"), []byte("k"), 0o600))
	must(t, os.Symlink("bin/run", filepath.Join(src, "start")))
	var res flowdata.BackupResult
	if _, err := s.run(workflows.BackupName, flowdata.BackupInput{Name: "site", Source: "dir:" + src, Target: "s3://" + backupsBucket + "/", Verify: true}, &res); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(res.Key, ".tar.zst") {
		t.Errorf("key %s", res.Key)
	}
	dest := filepath.Join(t.TempDir(), "site")
	if _, err := s.run(workflows.RestoreName, flowdata.RestoreInput{From: "s3://" + backupsBucket + "/site/", To: "dir:" + dest}, nil); err != nil {
		t.Fatal(err)
	}
	for name, mode := range map[string]os.FileMode{"bin/run": 0o755, "secret.key": 0o600} {
		fi, err := os.Stat(filepath.Join(dest, name))
		if err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v %v, want mode %v", name, fi, err, mode)
		}
	}
	if l, err := os.Readlink(filepath.Join(dest, "start")); err != nil || l != "bin/run" {
		t.Errorf("symlink %q %v", l, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestBackupWorkerCrashMidUpload kills the worker while it streams a
// source into a multipart upload; a new worker retries the upload from the
// start (aborting the first attempt's upload) and the run completes with
// the whole source, leaving no multipart upload behind.
func TestBackupWorkerCrashMidUpload(t *testing.T) {
	ts := testenv.NewTemporal(t)
	_, awsc := stacktest.Cloud(t, localcloud.Options{})
	ctx := context.Background()
	if _, err := awsc.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(backupsBucket)}); err != nil {
		t.Fatal(err)
	}
	getenv := func(string) string { return "" }
	w1 := stacktest.StartWorker(t, ts, awsc, getenv)
	const size = 24 << 20
	data, _ := io.ReadAll(detdata.New(11, size))
	stalled := make(chan struct{})
	var first atomic.Bool
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(size))
		if first.CompareAndSwap(false, true) {
			// The first attempt gets 12 MiB (two parts), then the source
			// stalls until the worker dies.
			_, _ = w.Write(data[:12<<20])
			w.(http.Flusher).Flush()
			close(stalled)
			<-r.Context().Done()
			return
		}
		_, _ = w.Write(data)
	}))
	defer src.Close()
	c := testenv.NewClient(t, ts)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "backup-crash", TaskQueue: workflows.TaskQueue}, workflows.BackupName,
		flowdata.BackupInput{Name: "crash", Source: src.URL, Target: "s3://" + backupsBucket + "/", PartSize: 5 << 20, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-stalled:
	case <-time.After(time.Minute):
		t.Fatal("the upload never started")
	}
	open := func() int {
		out, err := awsc.S3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(backupsBucket)})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Uploads)
	}
	testenv.Eventually(t, 30*time.Second, 20*time.Millisecond, "the first attempt's multipart upload is open", func() bool { return open() == 1 })
	w1.Stop()
	stacktest.StartWorker(t, ts, awsc, getenv)
	rctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	var res flowdata.BackupResult
	if err := run.Get(rctx, &res); err != nil {
		t.Fatal(err)
	}
	if res.Bytes != size || res.SHA256 != fmt.Sprintf("%x", sha256.Sum256(data)) {
		t.Errorf("result %+v", res)
	}
	if n := open(); n != 0 {
		t.Errorf("%d multipart uploads left open", n)
	}
}
