package activities_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/detdata"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/workflows/flowdata"
)

const backupBucket = "backups"

// backupEnv is the local cloud (its S3 store under dataDir) with a
// bucket, and an activity environment with the Backup activities.
type backupEnv struct {
	t       *testing.T
	c       *awsconf.Clients
	dataDir string
	env     *testsuite.TestActivityEnvironment
}

func newBackupEnv(t *testing.T, getenv func(string) string) *backupEnv {
	return newBackupEnvWith(t, getenv, nil)
}

func (b *backupEnv) upload(in activities.BackupUploadInput) (activities.BackupUploadResult, error) {
	in.Bucket = backupBucket
	var res activities.BackupUploadResult
	v, err := b.env.ExecuteActivity(activities.BackupUploadName, in)
	if err == nil {
		err = v.Get(&res)
	}
	return res, err
}

func (b *backupEnv) restore(obj activities.ObjectRef, to string) error {
	_, err := b.env.ExecuteActivity(activities.RestoreStreamName, activities.RestoreStreamInput{Object: obj, To: to})
	return err
}

// openUploads counts the bucket's unfinished multipart uploads.
func (b *backupEnv) openUploads() int {
	out, err := b.c.S3.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(backupBucket)})
	if err != nil {
		b.t.Fatal(err)
	}
	return len(out.Uploads)
}

func (b *backupEnv) head(key string) *s3.HeadObjectOutput {
	h, err := b.c.S3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(backupBucket), Key: aws.String(key)})
	if err != nil {
		b.t.Fatal(err)
	}
	return h
}

func sumHex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func errType(err error) string {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return ae.Type()
	}
	return ""
}

// TestBackupFileMultipartAndRestore backs a 21 MiB file up in 5 MiB parts
// (a real multipart upload), checks the metadata, verifies, and restores
// it byte for byte; no upload is left open.
func TestBackupFileMultipartAndRestore(t *testing.T) {
	b := newBackupEnv(t, nil)
	data := detBytes(7, 21<<20+123)
	src := filepath.Join(t.TempDir(), "db.dump")
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	key := "prod/db/20261201T030000Z.bin"
	res, err := b.upload(activities.BackupUploadInput{Source: "file://" + src, Key: key, PartSize: 5 << 20, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Bytes != int64(len(data)) || res.SHA256 != sumHex(data) {
		t.Fatalf("result %+v, want %d bytes sha %s", res, len(data), sumHex(data))
	}
	h := b.head(key)
	if h.Metadata[activities.MetaSHA256] != sumHex(data) || h.Metadata[activities.MetaSize] != "22020219" ||
		h.Metadata[activities.MetaSource] != "file://"+src || h.Metadata[activities.MetaVersion] == "" {
		t.Errorf("metadata %v", h.Metadata)
	}
	if n := b.openUploads(); n != 0 {
		t.Errorf("%d uploads left open", n)
	}
	obj := activities.ObjectRef{Bucket: backupBucket, Key: key, SHA256: res.SHA256, Size: res.Bytes}
	if _, err := b.env.ExecuteActivity(activities.BackupVerifyName, obj); err != nil {
		t.Fatalf("verify: %v", err)
	}
	dest := filepath.Join(t.TempDir(), "restored", "db.dump")
	if err := b.restore(obj, "file://"+dest); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(dest)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("restored %d bytes (err %v), want the %d backed up", len(got), err, len(data))
	}
}

// TestRestoreCorruptedObject flips one byte of the stored object behind
// the emulator's back: verify and restore fail with ChecksumMismatch, and
// the destination file keeps its old content.
func TestRestoreCorruptedObject(t *testing.T) {
	b := newBackupEnv(t, nil)
	data := detBytes(3, 1<<20)
	src := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	key := "n/20261201T030000Z.bin"
	res, err := b.upload(activities.BackupUploadInput{Source: "file://" + src, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	must(t, stacktest.FlipByte(b.dataDir, backupBucket, key, 4242))
	obj := activities.ObjectRef{Bucket: backupBucket, Key: key, SHA256: res.SHA256, Size: res.Bytes}
	if _, err := b.env.ExecuteActivity(activities.BackupVerifyName, obj); errType(err) != activities.ErrTypeChecksumMismatch {
		t.Errorf("verify of a damaged object: %v, want ChecksumMismatch", err)
	}
	dest := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(dest, []byte("previous content"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = b.restore(obj, "file://"+dest)
	if errType(err) != activities.ErrTypeChecksumMismatch {
		t.Fatalf("restore of a damaged object: %v, want ChecksumMismatch", err)
	}
	if got, _ := os.ReadFile(dest); string(got) != "previous content" {
		t.Errorf("destination changed to %d bytes", len(got))
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(dest), ".*vigil-restore*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	// An http destination never receives the complete body.
	var complete bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, err := io.ReadAll(r.Body)
		complete = err == nil && int64(len(got)) == res.Bytes
	}))
	defer srv.Close()
	if err := b.restore(obj, srv.URL+"/snapshot"); errType(err) != activities.ErrTypeChecksumMismatch {
		t.Errorf("http restore of a damaged object: %v, want ChecksumMismatch", err)
	}
	if complete {
		t.Error("the http destination received the whole damaged body")
	}
}

// TestBackupDirKeepsModesMtimesSymlinks archives a tree (zstd and gzip)
// and extracts it elsewhere, over an existing directory.
func TestBackupDirKeepsModesMtimesSymlinks(t *testing.T) {
	b := newBackupEnv(t, nil)
	src := filepath.Join(t.TempDir(), "site")
	mtime := time.Date(2025, 6, 1, 12, 30, 45, 123456789, time.UTC)
	must(t, os.MkdirAll(filepath.Join(src, "conf", "empty"), 0o755))
	must(t, os.WriteFile(filepath.Join(src, "conf", "app.yaml"), []byte("port: 8080\n"), 0o640))
	must(t, os.WriteFile(filepath.Join(src, "run.sh"), []byte("#!/bin/sh\necho hi\n"), 0o755))
	must(t, os.WriteFile(filepath.Join(src, "big.bin"), detBytes(9, 3<<20), 0o600))
	must(t, os.Symlink("conf/app.yaml", filepath.Join(src, "current")))
	must(t, os.Chtimes(filepath.Join(src, "run.sh"), mtime, mtime))
	must(t, os.Chmod(filepath.Join(src, "conf"), 0o750))
	for _, comp := range []string{flowdata.CompressionZstd, flowdata.CompressionGzip} {
		t.Run(comp, func(t *testing.T) {
			key := "site/20261201T030000Z." + activities.ArchiveExt(comp)
			res, err := b.upload(activities.BackupUploadInput{Source: "dir:" + src, Key: key, Compression: comp})
			if err != nil {
				t.Fatal(err)
			}
			if res.Bytes >= 3<<20 {
				t.Logf("archive of %d bytes (detdata does not compress much)", res.Bytes)
			}
			dest := filepath.Join(t.TempDir(), "restored")
			must(t, os.MkdirAll(filepath.Join(dest, "stale"), 0o755))
			obj := activities.ObjectRef{Bucket: backupBucket, Key: key, SHA256: res.SHA256, Size: res.Bytes}
			if err := b.restore(obj, "dir:"+dest); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(dest, "stale")); !os.IsNotExist(err) {
				t.Errorf("old content survived the restore: %v", err)
			}
			for _, name := range []string{"conf/app.yaml", "run.sh", "big.bin"} {
				want, _ := os.ReadFile(filepath.Join(src, name))
				got, err := os.ReadFile(filepath.Join(dest, name))
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("%s: %d bytes (%v), want %d", name, len(got), err, len(want))
				}
			}
			for name, mode := range map[string]os.FileMode{"conf/app.yaml": 0o640, "run.sh": 0o755, "big.bin": 0o600, "conf": 0o750 | os.ModeDir} {
				fi, err := os.Lstat(filepath.Join(dest, name))
				if err != nil || fi.Mode() != mode {
					t.Errorf("%s: mode %v (%v), want %v", name, fi.Mode(), err, mode)
				}
			}
			if fi, err := os.Stat(filepath.Join(dest, "run.sh")); err != nil || !fi.ModTime().Equal(mtime) {
				t.Errorf("run.sh mtime %v, want %v", fi.ModTime(), mtime)
			}
			if l, err := os.Readlink(filepath.Join(dest, "current")); err != nil || l != "conf/app.yaml" {
				t.Errorf("symlink = %q, %v", l, err)
			}
			if fi, err := os.Stat(filepath.Join(dest, "conf", "empty")); err != nil || !fi.IsDir() {
				t.Errorf("empty dir not restored: %v", err)
			}
		})
	}
}

// TestBackupMissingSourceWritesNothing: a missing file or an http 404 is a
// NotFound failure and no object or upload exists afterwards.
func TestBackupMissingSourceWritesNothing(t *testing.T) {
	b := newBackupEnv(t, nil)
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	for _, src := range []string{"file:///nonexistent/vigil/db.dump", "dir:/nonexistent/vigil/site", srv.URL + "/snapshot"} {
		_, err := b.upload(activities.BackupUploadInput{Source: src, Key: "x/20261201T030000Z.bin"})
		if errType(err) != activities.ErrTypeNotFound {
			t.Errorf("%s: %v, want NotFound", src, err)
		}
	}
	out, err := b.c.S3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(backupBucket)})
	if err != nil || len(out.Contents) != 0 || b.openUploads() != 0 {
		t.Errorf("objects %d, open uploads %d, err %v", len(out.Contents), b.openUploads(), err)
	}
}

// TestBackupSourceFailsMidStream: an http source that dies after 12 MiB
// of a promised 40 fails the upload, and its multipart upload is aborted.
func TestBackupSourceFailsMidStream(t *testing.T) {
	b := newBackupEnv(t, func(k string) string {
		if k == "CACHE_PASSWORD" {
			return "s3cret"
		}
		return ""
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "vigil" || p != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Length", "41943040")
		_, _ = w.Write(detBytes(1, 12<<20))
		panic(http.ErrAbortHandler)
	}))
	defer srv.Close()
	auth := &flowdata.HTTPAuth{BasicAuth: &flowdata.BasicAuth{User: "vigil", PasswordEnv: "CACHE_PASSWORD"}}
	_, err := b.upload(activities.BackupUploadInput{Source: srv.URL, Auth: auth, Key: "c/20261201T030000Z.bin", PartSize: 5 << 20})
	if err == nil {
		t.Fatal("upload of a truncated source succeeded")
	}
	if n := b.openUploads(); n != 0 {
		t.Errorf("%d multipart uploads left open", n)
	}
	if _, err := b.c.S3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(backupBucket), Key: aws.String("c/20261201T030000Z.bin")}); err == nil {
		t.Error("an object was written")
	}
	// A wrong password is AccessDenied, at once.
	auth.BasicAuth.PasswordEnv = "VIGIL_SECRET_UNSET"
	if _, err := b.upload(activities.BackupUploadInput{Source: srv.URL, Auth: auth, Key: "c/x.bin"}); errType(err) != activities.ErrTypeConfig {
		t.Errorf("unset password env: %v, want Config", err)
	}
}

// TestBackupRetryAbortsEarlierUpload: an upload a crashed attempt left
// open on the run's key is aborted when the retry starts.
func TestBackupRetryAbortsEarlierUpload(t *testing.T) {
	b := newBackupEnv(t, nil)
	key := "r/20261201T030000Z.bin"
	if _, err := b.c.S3.CreateMultipartUpload(context.Background(), &s3.CreateMultipartUploadInput{Bucket: aws.String(backupBucket), Key: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "f")
	must(t, os.WriteFile(src, []byte("small"), 0o600))
	res, err := b.upload(activities.BackupUploadInput{Source: "file://" + src, Key: key})
	if err != nil || res.Aborted != 1 || b.openUploads() != 0 {
		t.Fatalf("result %+v, err %v, open uploads %d; want 1 aborted, none open", res, err, b.openUploads())
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// detBytes is n deterministic bytes of seed.
func detBytes(seed uint64, n int) []byte {
	b, err := io.ReadAll(detdata.New(seed, int64(n)))
	if err != nil {
		panic(err)
	}
	return b
}
