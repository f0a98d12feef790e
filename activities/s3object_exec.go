package activities

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/vigilops/vigil/workflows/flowdata"
)

// tempPrefix starts the name of every exec processor download, so
// RemoveDownload only ever deletes those.
const tempPrefix = "vigil-s3obj-"

// DownloadInput asks for a local copy of an object version.
type DownloadInput struct {
	Object flowdata.S3ObjectRef `json:"object"`
}

// DownloadResult is the local copy.
type DownloadResult struct {
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
	// Token is the copy's identity (see partial_identity.go):
	// RunObjectCommand refuses a file at Path with another token or none.
	// Empty in runs whose copy was made before copies had one.
	Token string `json:"token,omitempty"`
}

// DownloadObject streams the object version to a new temp file in this
// worker host's downloads directory (the exec processor's input),
// heartbeating the bytes copied; it also removes orphaned copies at most
// once an hour (CleanDownloads). The copy must have the object's
// Content-Length, is synced to disk and gets an identity token, so a copy
// lost or cut short on the way (a reboot, a replaced disk) is never
// processed.
// A retry starts a fresh file; the workflow removes it with RemoveDownload
// on the same host.
func (a *S3Object) DownloadObject(ctx context.Context, in DownloadInput) (DownloadResult, error) {
	a.cleanDownloadsNow(activity.GetLogger(ctx).Info)
	rc, length, err := ProcessRequest{Object: in.Object, Deps: a}.Open(ctx)
	if err != nil {
		return DownloadResult{}, err
	}
	defer rc.Close()
	dir := a.DownloadsDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return DownloadResult{}, fmt.Errorf("downloads directory: %w", err)
	}
	f, err := os.CreateTemp(dir, tempPrefix+"*-"+safeBase(in.Object.Key))
	if err != nil {
		return DownloadResult{}, fmt.Errorf("temp file: %w", err)
	}
	defer a.downloads.use(f.Name())()
	n, err := io.Copy(f, &heartbeatReader{ctx: ctx, r: rc})
	// length is 0 when the answer had no Content-Length (Open reads it
	// with aws.ToInt64): nothing to compare then.
	if err == nil && length > 0 && n != length {
		err = fmt.Errorf("got %d of %d bytes", n, length)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	var token string
	if err == nil {
		token, err = newIdentity(f.Name())
	}
	if err != nil {
		_ = os.Remove(f.Name())
		_ = removeIdentity(f.Name())
		return DownloadResult{}, fmt.Errorf("downloading s3://%s/%s: %w", in.Object.Bucket, in.Object.Key, err)
	}
	return DownloadResult{Path: f.Name(), Bytes: n, Token: token}, nil
}

// checkDownload fails with a non-retryable DestinationReplaced error when
// the local copy at in.Path is gone, or (for a copy with a token) is not
// the one DownloadObject made: another identity token or none, or another
// size. The workflow then downloads the object again.
func checkDownload(in RunObjectCommandInput) error {
	fi, err := os.Stat(in.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return destinationReplaced(in.Path, "it is gone")
	}
	if err != nil {
		return fmt.Errorf("local copy: %w", err)
	}
	if in.Token == "" {
		return nil
	}
	if fi.Size() != in.Size {
		return destinationReplaced(in.Path, fmt.Sprintf("it has %d bytes, not the %d downloaded", fi.Size(), in.Size))
	}
	return checkIdentity(in.Path, in.Token)
}

// safeBase is the key's last element reduced to safe file-name characters
// (commands that look at the extension still see it).
func safeBase(key string) string {
	b := []rune(filepath.Base(key))
	for i, r := range b {
		if !(r == '.' || r == '-' || r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9')) {
			b[i] = '_'
		}
	}
	if len(b) > 64 {
		b = b[len(b)-64:]
	}
	return string(b)
}

// heartbeatReader heartbeats the bytes read, at most once a second.
type heartbeatReader struct {
	ctx  context.Context
	r    io.Reader
	n    int64
	last time.Time
	// detail, when set, is heartbeated instead of the byte count.
	detail func() any
}

func (h *heartbeatReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.n += int64(n)
	if now := time.Now(); now.Sub(h.last) > time.Second {
		h.last = now
		var d any = h.n
		if h.detail != nil {
			d = h.detail()
		}
		activity.RecordHeartbeat(h.ctx, d)
	}
	return n, err
}

// RunObjectCommandInput is one attempt of an exec processor.
type RunObjectCommandInput struct {
	Object flowdata.S3ObjectRef `json:"object"`
	// Path is the local copy DownloadObject made on this host.
	Path string           `json:"path"`
	Exec flowdata.ExecJob `json:"exec"`
	// Size and Token are the copy's DownloadResult Bytes and Token; with
	// a Token, a file at Path of another size or identity is refused.
	Size  int64  `json:"size,omitempty"`
	Token string `json:"token,omitempty"`
}

// RunObjectCommand runs the exec processor's command on the local copy:
// args and env values are templates (.Bucket .Key .ETag .Size .Path), and
// VIGIL_BUCKET, VIGIL_KEY, VIGIL_ETAG, VIGIL_PATH are set. A non-zero exit
// is a retryable ExitStatus error; the process group is killed on cancel or
// timeout (the batch job's exec logic). A local copy that is gone or not
// the one downloaded fails with DestinationReplaced (checkDownload).
func (a *S3Object) RunObjectCommand(ctx context.Context, in RunObjectCommandInput) (JobOutput, error) {
	defer a.downloads.use(in.Path)()
	if err := checkDownload(in); err != nil {
		return JobOutput{}, err
	}
	// A fresh modification time tells other workers' clean-ups the copy
	// is in use (see DefaultDownloadMaxAge).
	now := time.Now()
	if err := os.Chtimes(in.Path, now, now); err != nil {
		return JobOutput{}, fmt.Errorf("local copy: %w", err)
	}
	d := templateData(in.Object, in.Path)
	j := in.Exec
	j.Args = make([]string, len(in.Exec.Args))
	for i, s := range in.Exec.Args {
		v, err := renderObject(fmt.Sprintf("args[%d]", i), s, d)
		if err != nil {
			return JobOutput{}, err
		}
		j.Args[i] = v
	}
	j.Env = make(map[string]string, len(in.Exec.Env))
	for k, s := range in.Exec.Env {
		v, err := renderObject("env."+k, s, d)
		if err != nil {
			return JobOutput{}, err
		}
		j.Env[k] = v
	}
	return runCommand(ctx, j, []string{"VIGIL_BUCKET=" + d.Bucket, "VIGIL_KEY=" + d.Key, "VIGIL_ETAG=" + d.ETag, "VIGIL_PATH=" + d.Path})
}

// RemoveDownload deletes a local copy DownloadObject made (only files it
// names that way); a missing file is fine.
func (a *S3Object) RemoveDownload(_ context.Context, path string) error {
	if !strings.HasPrefix(filepath.Base(path), tempPrefix) || filepath.Base(filepath.Dir(path)) != DownloadsDirName {
		return BadInput("%s is not an exec processor download", path)
	}
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return err
	}
	return removeIdentity(path)
}
