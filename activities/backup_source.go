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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/klauspost/compress/zstd"

	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/internal/secretenv"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// source is an open backup source.
type source struct {
	io.ReadCloser
	// size in bytes, -1 when unknown (a dir archive, a chunked response).
	size        int64
	name        string
	contentType string
}

// openSource opens the input's source; a source that does not exist is a
// non-retryable NotFound, found before anything is written.
func (a *Backup) openSource(ctx context.Context, in BackupUploadInput) (*source, error) {
	loc, err := location.Parse(in.Source)
	if err != nil {
		return nil, BadInput("source: %v", err)
	}
	switch loc.Scheme {
	case location.HTTP, location.HTTPS:
		return a.openHTTP(ctx, loc, in.Auth)
	case location.File:
		f, err := os.Open(loc.Path)
		if err != nil {
			return nil, fileError("source", loc.Path, err)
		}
		fi, err := f.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			f.Close()
			return nil, BadInput("source %s is not a regular file", loc)
		}
		return &source{ReadCloser: f, size: fi.Size(), name: loc.String(), contentType: "application/octet-stream"}, nil
	case location.Dir:
		fi, err := os.Stat(loc.Path)
		if err != nil {
			return nil, fileError("source", loc.Path, err)
		}
		if !fi.IsDir() {
			return nil, BadInput("source %s is not a directory", loc)
		}
		return &source{ReadCloser: archiveDir(loc.Path, in.Compression), size: -1, name: loc.String(), contentType: archiveContentType(in.Compression)}, nil
	case location.S3:
		out, err := a.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(loc.Bucket), Key: aws.String(loc.Key)})
		if err != nil {
			return nil, Classify("source "+loc.String(), err)
		}
		size := int64(-1)
		if out.ContentLength != nil {
			size = *out.ContentLength
		}
		return &source{ReadCloser: out.Body, size: size, name: loc.String(), contentType: "application/octet-stream"}, nil
	}
	return nil, BadInput("source %s: want http(s)://, file://, dir: or s3://", loc)
}

// fileError classifies an error opening a local path.
func fileError(what, path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nonRetryable(ErrTypeNotFound, "%s %s does not exist on host %s", what, path, DefaultHostName())
	case errors.Is(err, fs.ErrPermission):
		return nonRetryable(ErrTypeAccessDenied, "%s %s: permission denied", what, path)
	}
	return Classify(what+" "+path, err)
}

func (a *Backup) openHTTP(ctx context.Context, loc location.Location, auth *flowdata.HTTPAuth) (*source, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc.URL, nil)
	if err != nil {
		return nil, BadInput("source: %s", location.RedactText(err.Error()))
	}
	if err := a.authorize(req, auth); err != nil {
		return nil, err
	}
	resp, err := a.client().Do(req)
	if err != nil {
		return nil, requestError(req, err)
	}
	if err := statusError("GET", req, resp); err != nil {
		resp.Body.Close()
		return nil, err
	}
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/octet-stream"
	}
	return &source{ReadCloser: resp.Body, size: resp.ContentLength, name: requestURL(req), contentType: ct}, nil
}

func (a *Backup) client() *http.Client { return httpClient(a.HTTP) }

// statusError turns a non-2xx answer into an error: 404 NotFound, 401/403
// AccessDenied, other 4xx BadInput (all final), 5xx retryable.
func statusError(method string, req *http.Request, resp *http.Response) error {
	code := resp.StatusCode
	msg := fmt.Sprintf("%s %s: %s", method, requestURL(req), resp.Status)
	switch {
	case code >= 200 && code < 300:
		return nil
	case code == http.StatusNotFound:
		return nonRetryable(ErrTypeNotFound, "%s", msg)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return nonRetryable(ErrTypeAccessDenied, "%s", msg)
	case code >= 400 && code < 500 && code != http.StatusTooManyRequests && code != http.StatusRequestTimeout:
		return nonRetryable(ErrTypeBadInput, "%s", msg)
	}
	return errors.New(msg)
}

// authorize adds basic or bearer auth, reading the secret from the env
// var the input names; a missing variable is a Config error, one the
// worker does not allow a SecretEnvNotAllowed error.
func (a *Backup) authorize(req *http.Request, auth *flowdata.HTTPAuth) error {
	if auth == nil {
		return nil
	}
	return setAuth(req, secretEnv(a.Env), auth.BasicAuth, auth.BearerTokenEnv, "")
}

// setAuth sets basic auth (user, password from env var) and/or a bearer
// token (from env var) on req; a variable the worker's allow-list refuses
// is a non-retryable secretenv.ErrTypeNotAllowed error (the variable is
// not read), an unset one a non-retryable Config error whose message
// starts with what.
func setAuth(req *http.Request, env *secretenv.Env, basic *flowdata.BasicAuth, bearerEnv, what string) error {
	if basic != nil {
		pw, err := env.Lookup(basic.PasswordEnv)
		if err != nil {
			return err
		}
		if pw == "" {
			return nonRetryable(ErrTypeConfig, "%senvironment variable %s (basic-auth password) is not set on the worker", what, basic.PasswordEnv)
		}
		req.SetBasicAuth(basic.User, pw)
	}
	if bearerEnv != "" {
		tok, err := env.Lookup(bearerEnv)
		if err != nil {
			return err
		}
		if tok == "" {
			return nonRetryable(ErrTypeConfig, "%senvironment variable %s (bearer token) is not set on the worker", what, bearerEnv)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return nil
}

// ArchiveExt is the object extension of a dir source's archive.
func ArchiveExt(compression string) string {
	if compression == flowdata.CompressionGzip {
		return "tar.gz"
	}
	return "tar.zst"
}

func archiveContentType(compression string) string {
	if compression == flowdata.CompressionGzip {
		return "application/gzip"
	}
	return "application/zstd"
}

// archiveDir streams dir as a compressed tar (PAX: modes, sub-second
// mtimes, symlinks as links); the reader fails with the walk's error.
func archiveDir(dir, compression string) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeArchive(pw, dir, compression)) }()
	return pr
}

func writeArchive(w io.Writer, dir, compression string) error {
	var zw io.WriteCloser
	var err error
	if compression == flowdata.CompressionGzip {
		zw = gzip.NewWriter(w)
	} else if zw, err = zstd.NewWriter(w, zstd.WithEncoderConcurrency(1)); err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == "." {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		hdr.Name, hdr.Format = filepath.ToSlash(rel), tar.FormatPAX
		if fi.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.CopyN(tw, f, fi.Size())
		return err
	})
	if err != nil {
		return fmt.Errorf("archiving %s: %w", dir, err)
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}
