package activities

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/klauspost/compress/zstd"

	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// RestoreStreamInput streams one backup object to a destination.
type RestoreStreamInput struct {
	Object ObjectRef          `json:"object"`
	To     string             `json:"to"`
	Auth   *flowdata.HTTPAuth `json:"auth,omitempty"`
	Method string             `json:"method,omitempty"`
	// Verify is flowdata.VerifyFull to re-read a file destination from
	// disk (after it is synced) and check its SHA-256 again before the
	// rename.
	Verify string `json:"verify,omitempty"`
}

// RestoreStreamResult describes the restored data.
type RestoreStreamResult struct {
	Location string `json:"location"`
	Bytes    int64  `json:"bytes"`
}

// Restore streams the object to its destination, checking its SHA-256 on
// the way; on a mismatch (non-retryable ChecksumMismatch) the destination
// is left as it was:
//   - file: downloaded in parallel ranges into a temporary file next to
//     it, hashed as its prefix grows, renamed into place once verified
//     (backup_restore_file.go);
//   - dir: extracted into a temporary directory next to it (no entry may
//     leave it: os.Root), swapped into place once verified;
//   - http(s): sent as the body of a PUT (or POST) whose last byte is held
//     back until the digest matches; a mismatch cuts the body short, so
//     the server never receives a complete request.
func (a *Backup) Restore(ctx context.Context, in RestoreStreamInput) (RestoreStreamResult, error) {
	dest, err := location.Parse(in.To)
	if err != nil {
		return RestoreStreamResult{}, BadInput("destination: %v", err)
	}
	obj := in.Object
	if dest.Scheme == location.File {
		progress := startProgress(ctx, obj.Size)
		defer progress.Stop()
		return RestoreStreamResult{Location: dest.String(), Bytes: obj.Size}, a.restoreFileRanged(ctx, obj, dest.Path, progress, in.Verify == flowdata.VerifyFull)
	}
	out, err := a.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(obj.Bucket), Key: aws.String(obj.Key)})
	if err != nil {
		return RestoreStreamResult{}, Classify("S3 GetObject s3://"+obj.Bucket+"/"+obj.Key, err)
	}
	defer out.Body.Close()
	progress := startProgress(ctx, obj.Size)
	defer progress.Stop()
	body := newHashingReader(out.Body, obj.Size, progress)
	res := RestoreStreamResult{Location: dest.String(), Bytes: obj.Size}
	switch dest.Scheme {
	case location.Dir:
		return res, restoreDir(body, obj, dest.Path)
	case location.HTTP, location.HTTPS:
		return res, a.restoreHTTP(ctx, body, obj, in)
	}
	return res, BadInput("destination %s: want file://, dir: or http(s)://", dest)
}

// mismatch is the error of a restore whose bytes do not have the SHA-256
// recorded at backup time.
func mismatch(obj ObjectRef, got string) error {
	return nonRetryable(ErrTypeChecksumMismatch, "s3://%s/%s has SHA-256 %s, the backup recorded %s: the stored object is damaged; destination left unchanged",
		obj.Bucket, obj.Key, got, obj.SHA256)
}

func restoreDir(body *hashingReader, obj ObjectRef, dest string) error {
	var zr io.Reader
	switch {
	case strings.HasSuffix(obj.Key, ".tar.gz"):
		gz, err := gzip.NewReader(body)
		if err != nil {
			return nonRetryable(ErrTypeBadInput, "s3://%s/%s: not a gzip archive: %v", obj.Bucket, obj.Key, err)
		}
		zr = gz
	case strings.HasSuffix(obj.Key, ".tar.zst"):
		zd, err := zstd.NewReader(body, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return err
		}
		defer zd.Close()
		zr = zd
	default:
		return nonRetryable(ErrTypeBadInput, "s3://%s/%s is not a dir backup (.tar.zst or .tar.gz); restore it to a file", obj.Bucket, obj.Key)
	}
	parent := filepath.Dir(dest)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fileError("destination", dest, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dest)+".vigil-restore-*")
	if err != nil {
		return fileError("destination", dest, err)
	}
	defer os.RemoveAll(tmp)
	exErr := extractTar(zr, tmp)
	// Hash what the archive reader left unread too: the digest covers the
	// whole object.
	if _, err := io.Copy(io.Discard, body); err != nil && exErr == nil {
		exErr = err
	}
	if got := body.Sum(); got != obj.SHA256 {
		return mismatch(obj, got)
	}
	if exErr != nil {
		return nonRetryable(ErrTypeBadInput, "extracting s3://%s/%s: %v", obj.Bucket, obj.Key, exErr)
	}
	// The extracted files were synced as they were written; their
	// directories are synced before the swap, and the parent after it, so
	// a crash never leaves a published tree with files missing.
	if err := syncDirs(tmp); err != nil {
		return fileError("destination", dest, err)
	}
	if err := swapDir(tmp, dest); err != nil {
		return err
	}
	if err := syncPath(parent); err != nil {
		return fileError("destination", dest, err)
	}
	return nil
}

// restoreSynced, when set (tests), is called with each path a directory
// restore has fsynced.
var restoreSynced func(path string)

// syncDirs fsyncs every directory under dir (dir too), children before
// their parents. A directory its own mode keeps the worker from opening
// is skipped.
func syncDirs(dir string) error {
	var dirs []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return err
	})
	if err != nil {
		return err
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := syncPath(dirs[i]); errors.Is(err, fs.ErrPermission) {
			continue
		} else if err != nil {
			return err
		}
		if restoreSynced != nil {
			restoreSynced(dirs[i])
		}
	}
	return nil
}

// swapDir moves the extracted tree into place, the old one aside first.
func swapDir(tmp, dest string) error {
	old := ""
	if _, err := os.Lstat(dest); err == nil {
		old = fmt.Sprintf("%s.vigil-old-%d", dest, time.Now().UnixNano())
		if err := os.Rename(dest, old); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dest); err != nil {
		if old != "" {
			_ = os.Rename(old, dest)
		}
		return err
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}

// extractTar writes the archive's entries under dir through os.Root, so
// no entry (a "../" name, an absolute one, or a path through a symlink
// the archive made) can write outside dir. Modes and mtimes are applied;
// directories' last, once their content is written.
func extractTar(r io.Reader, dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	type dirMeta struct {
		name  string
		mode  fs.FileMode
		mtime time.Time
	}
	var dirs []dirMeta
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		name := filepath.FromSlash(strings.TrimSuffix(hdr.Name, "/"))
		if !filepath.IsLocal(name) {
			return fmt.Errorf("entry %q leaves the destination", hdr.Name)
		}
		if d := filepath.Dir(name); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
		mode := hdr.FileInfo().Mode()
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o700); err != nil {
				return err
			}
			dirs = append(dirs, dirMeta{name, mode.Perm(), hdr.ModTime})
			continue
		case tar.TypeSymlink:
			if err := root.Symlink(hdr.Linkname, name); err != nil {
				return err
			}
			continue
		case tar.TypeReg:
			f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if err == nil {
				err = f.Sync()
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			if restoreSynced != nil {
				restoreSynced(filepath.Join(dir, name))
			}
		default:
			continue // devices, fifos, hard links: not restored
		}
		if err := root.Chmod(name, mode.Perm()|mode&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
			return err
		}
		if err := root.Chtimes(name, hdr.ModTime, hdr.ModTime); err != nil {
			return err
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		d := dirs[i]
		if err := root.Chmod(d.name, d.mode); err != nil {
			return err
		}
		if err := root.Chtimes(d.name, d.mtime, d.mtime); err != nil {
			return err
		}
	}
	return nil
}

// restoreHTTP sends the object as one request body of its exact size,
// holding back the last byte until the whole digest is checked.
func (a *Backup) restoreHTTP(ctx context.Context, body *hashingReader, obj ObjectRef, in RestoreStreamInput) error {
	method := strings.ToUpper(in.Method)
	if method == "" {
		method = http.MethodPut
	}
	pr, pw := io.Pipe()
	var sendErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		sendErr = sendVerified(pw, body, obj)
		pw.CloseWithError(sendErr)
	}()
	req, err := http.NewRequestWithContext(ctx, method, in.To, pr)
	if err != nil {
		pr.CloseWithError(err)
		<-done
		return BadInput("destination: %v", err)
	}
	req.ContentLength = obj.Size
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("X-Vigil-SHA256", obj.SHA256)
	if err := a.authorize(req, in.Auth); err != nil {
		pr.CloseWithError(err)
		<-done
		return err
	}
	resp, err := a.client().Do(req)
	pr.CloseWithError(errors.New("request finished"))
	<-done
	var mm interface{ Type() string }
	if errors.As(sendErr, &mm) && mm.Type() == ErrTypeChecksumMismatch {
		if resp != nil {
			resp.Body.Close()
		}
		return sendErr
	}
	if err != nil {
		return requestError(req, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	return statusError(method, req, resp)
}

// sendVerified copies all but the last byte, checks the digest, then
// sends the last byte (or returns the mismatch).
func sendVerified(w io.Writer, body *hashingReader, obj ObjectRef) error {
	if obj.Size > 0 {
		if _, err := io.CopyN(w, body, obj.Size-1); err != nil {
			return err
		}
	}
	last := make([]byte, 1)
	n, err := io.ReadFull(body, last[:min(1, obj.Size)])
	if err != nil && !(obj.Size == 0 && err == io.EOF) {
		return err
	}
	if _, err := body.Read(make([]byte, 1)); err != io.EOF {
		return fmt.Errorf("s3://%s/%s is longer than %d bytes", obj.Bucket, obj.Key, obj.Size)
	}
	if got := body.Sum(); got != obj.SHA256 {
		return mismatch(obj, got)
	}
	_, err = w.Write(last[:n])
	return err
}
