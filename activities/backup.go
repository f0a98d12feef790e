package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/vigilops/vigil/internal/secretenv"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// Version is vigil's version, stored in every backup's metadata; set it
// with -ldflags "-X github.com/vigilops/vigil/activities.Version=v1.2.3"
// (default: the module version of the build, or "devel").
var Version = func() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}()

// Backup object metadata keys (x-amz-meta-*).
const (
	MetaSHA256  = "vigil-sha256"
	MetaSize    = "vigil-size"
	MetaSource  = "vigil-source"
	MetaVersion = "vigil-version"
)

// Backup upload defaults: 8 MiB parts (as the AWS CLI), 4 in flight. The upload holds
// about (Concurrency+1) × PartSize of buffers whatever the source's size.
const (
	DefaultBackupPartSize    int64 = 8 << 20
	DefaultBackupConcurrency       = 4
)

// BackupS3API is the part of the S3 client backups and restores use.
type BackupS3API interface {
	manager.UploadAPIClient
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	CopyObject(context.Context, *s3.CopyObjectInput, ...func(*s3.Options)) (*s3.CopyObjectOutput, error)
	DeleteObject(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	ListMultipartUploads(context.Context, *s3.ListMultipartUploadsInput, ...func(*s3.Options)) (*s3.ListMultipartUploadsOutput, error)
}

// Backup streams sources into S3 objects and back out again.
type Backup struct {
	S3 BackupS3API
	// HTTP sends http source and destination requests; nil uses
	// outbound.Default (no overall timeout; link-local addresses refused).
	HTTP *http.Client
	// Env resolves secrets named in inputs (never logged or returned)
	// through the worker's allow-list; nil is the default allow-list over
	// the process environment.
	Env *secretenv.Env
}

// BackupUploadInput is one streaming upload.
type BackupUploadInput struct {
	Source       string             `json:"source"`
	Auth         *flowdata.HTTPAuth `json:"auth,omitempty"`
	Compression  string             `json:"compression,omitempty"`
	Bucket       string             `json:"bucket"`
	Key          string             `json:"key"`
	PartSize     int64              `json:"partSize,omitempty"`
	Concurrency  int                `json:"concurrency,omitempty"`
	SSE          string             `json:"sse,omitempty"`
	KMSKeyID     string             `json:"kmsKeyId,omitempty"`
	StorageClass string             `json:"storageClass,omitempty"`
}

// BackupUploadResult describes the stored object.
type BackupUploadResult struct {
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
	// Seconds the upload took (for throughput).
	Seconds float64 `json:"seconds"`
	// Aborted counts stale multipart uploads of the key (an earlier
	// attempt's) aborted before this one started.
	Aborted int `json:"aborted,omitempty"`
}

// UploadProgress is the heartbeat of a backup's upload (bytes S3
// acknowledged), a restore's download and a verify (bytes read): see
// backup_progress.go.
type UploadProgress struct {
	// Done is the bytes done so far.
	Done int64 `json:"done"`
	// Total is the expected size; 0 when unknown (a dir source, an http
	// source without Content-Length).
	Total int64 `json:"total,omitempty"`
}

// maxSelfCopySize is the largest object whose metadata a CopyObject onto
// itself can rewrite.
const maxSelfCopySize = MaxCopyObjectSize

// Upload streams the source into s3://Bucket/Key through the SDK's upload
// manager: parts of PartSize, Concurrency at once, so memory stays
// bounded whatever the size; the SHA-256 is computed as the bytes go by.
// The object the upload made is checked (size, part count, ETag, the
// checksums S3 returns: checkUploaded; a damaged one is deleted and the
// activity fails with ChecksumMismatch). Then the object's metadata gets
// the SHA-256 and size (a CopyObject onto itself with MetadataDirective REPLACE: S3 fixes
// metadata when an upload starts, before the digest is known).
//
// A retry (after a crash of the worker, say) starts over: it first aborts
// every multipart upload still open on the key (an earlier attempt's; the
// key is unique to the run). A failed or cancelled upload is aborted in a
// context of its own, so nothing is left behind.
func (a *Backup) Upload(ctx context.Context, in BackupUploadInput) (BackupUploadResult, error) {
	aborted, err := a.abortUploads(ctx, in.Bucket, in.Key)
	if err != nil {
		return BackupUploadResult{}, err
	}
	if aborted > 0 {
		activity.GetLogger(ctx).Info("aborted the multipart uploads an earlier attempt left", "key", in.Key, "count", aborted)
	}
	src, err := a.openSource(ctx, in)
	if err != nil {
		return BackupUploadResult{}, err
	}
	defer src.Close()
	start := time.Now()
	progress := startProgress(ctx, src.size)
	defer progress.Stop()
	body := newHashingReader(src, src.size, nil)
	partSize, concurrency := in.PartSize, in.Concurrency
	if partSize <= 0 {
		partSize = DefaultBackupPartSize
	}
	if concurrency <= 0 {
		concurrency = DefaultBackupConcurrency
	}
	put := &s3.PutObjectInput{Bucket: aws.String(in.Bucket), Key: aws.String(in.Key), Body: body,
		ContentType: aws.String(src.contentType), Metadata: map[string]string{MetaSource: src.name, MetaVersion: Version}}
	applyStorageOptions(put, in)
	u := manager.NewUploader(ackedParts{a.S3, progress}, func(u *manager.Uploader) {
		u.PartSize, u.Concurrency = partSize, concurrency
		u.LeavePartsOnError = false
	})
	up, err := u.Upload(ctx, put)
	if err != nil {
		a.cleanup(ctx, in)
		if body.err != nil {
			return BackupUploadResult{}, body.err
		}
		return BackupUploadResult{}, Classify("S3 upload s3://"+in.Bucket+"/"+in.Key, err)
	}
	if err := checkUploaded(ctx, a.S3, in.Bucket, in.Key, up, body.n); err != nil {
		// Only an object shown to differ from what was sent is removed; a
		// check that could not be made leaves the backup as it is.
		if ae := (*temporal.ApplicationError)(nil); errors.As(err, &ae) && ae.Type() == ErrTypeChecksumMismatch {
			a.deleteQuietly(ctx, in.Bucket, in.Key)
		}
		return BackupUploadResult{}, err
	}
	sum := body.Sum()
	if err := a.setChecksum(ctx, in, put, sum, body.n); err != nil {
		a.deleteQuietly(ctx, in.Bucket, in.Key)
		return BackupUploadResult{}, err
	}
	return BackupUploadResult{Bytes: body.n, SHA256: sum, Seconds: time.Since(start).Seconds(), Aborted: aborted}, nil
}

// cleanup aborts the key's open uploads after a failure, in a context of
// its own (the activity's may be cancelled).
func (a *Backup) cleanup(ctx context.Context, in BackupUploadInput) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if n, err := a.abortUploads(cctx, in.Bucket, in.Key); err != nil {
		activity.GetLogger(ctx).Warn("could not abort the failed upload", "key", in.Key, "error", err)
	} else if n > 0 {
		activity.GetLogger(ctx).Info("aborted the failed upload", "key", in.Key, "count", n)
	}
}

func (a *Backup) deleteQuietly(ctx context.Context, bucket, key string) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, _ = a.S3.DeleteObject(cctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
}

// applyStorageOptions sets encryption and storage class.
func applyStorageOptions(put *s3.PutObjectInput, in BackupUploadInput) {
	if in.SSE != "" {
		put.ServerSideEncryption = s3types.ServerSideEncryption(in.SSE)
		if in.KMSKeyID != "" {
			put.SSEKMSKeyId = aws.String(in.KMSKeyID)
		}
	}
	if in.StorageClass != "" {
		put.StorageClass = s3types.StorageClass(in.StorageClass)
	}
}

// setChecksum writes the SHA-256 and size into the object's metadata. An
// object too large for one CopyObject keeps its metadata as uploaded; its
// digest is then in latest.json and the workflow's result only.
func (a *Backup) setChecksum(ctx context.Context, in BackupUploadInput, put *s3.PutObjectInput, sum string, size int64) error {
	if size > maxSelfCopySize {
		activity.GetLogger(ctx).Warn("object too large for a metadata rewrite; its SHA-256 is kept in latest.json only", "key", in.Key, "bytes", size)
		return nil
	}
	meta := map[string]string{MetaSHA256: sum, MetaSize: strconv.FormatInt(size, 10)}
	for k, v := range put.Metadata {
		meta[k] = v
	}
	cp := &s3.CopyObjectInput{Bucket: aws.String(in.Bucket), Key: aws.String(in.Key),
		CopySource: aws.String(in.Bucket + "/" + escapeKey(in.Key)), MetadataDirective: s3types.MetadataDirectiveReplace,
		Metadata: meta, ContentType: put.ContentType, ServerSideEncryption: put.ServerSideEncryption,
		SSEKMSKeyId: put.SSEKMSKeyId, StorageClass: put.StorageClass}
	_, err := a.S3.CopyObject(ctx, cp)
	return Classify("S3 CopyObject (metadata) s3://"+in.Bucket+"/"+in.Key, err)
}

// abortUploads aborts every open multipart upload of exactly key.
func (a *Backup) abortUploads(ctx context.Context, bucket, key string) (int, error) {
	n := 0
	req := &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket), Prefix: aws.String(key)}
	for {
		out, err := a.S3.ListMultipartUploads(ctx, req)
		if err != nil {
			return n, Classify("S3 ListMultipartUploads s3://"+bucket+"/"+key, err)
		}
		for _, up := range out.Uploads {
			if aws.ToString(up.Key) != key {
				continue
			}
			if _, err := a.S3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: up.Key, UploadId: up.UploadId}); err != nil {
				var nf interface{ ErrorCode() string }
				if errors.As(err, &nf) && nf.ErrorCode() == "NoSuchUpload" {
					continue
				}
				return n, Classify("S3 AbortMultipartUpload s3://"+bucket+"/"+key, err)
			}
			n++
		}
		if !aws.ToBool(out.IsTruncated) {
			return n, nil
		}
		req.KeyMarker, req.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

// AbortUploadsInput names the key whose open uploads to abort.
type AbortUploadsInput struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
}

// AbortUploads aborts the open multipart uploads of a key (a failed or
// cancelled run's cleanup) and says how many it aborted.
func (a *Backup) AbortUploads(ctx context.Context, in AbortUploadsInput) (int, error) {
	return a.abortUploads(ctx, in.Bucket, in.Key)
}

// hashingReader hashes and counts what is read, adds the count to its
// progress (nil: none), and remembers a source error (so the upload's
// failure names it).
type hashingReader struct {
	r        io.Reader
	h        hash.Hash
	n        int64
	total    int64
	progress *progressBeat
	err      error
}

func newHashingReader(r io.Reader, total int64, progress *progressBeat) *hashingReader {
	return &hashingReader{r: r, h: sha256.New(), total: total, progress: progress}
}

func (h *hashingReader) Read(b []byte) (int, error) {
	n, err := h.r.Read(b)
	h.h.Write(b[:n])
	h.n += int64(n)
	h.progress.add(int64(n))
	switch {
	case err == io.EOF && h.total >= 0 && h.n != h.total:
		h.err = fmt.Errorf("source ended at %d of %d bytes: %w", h.n, h.total, io.ErrUnexpectedEOF)
		return n, h.err
	case err != nil && err != io.EOF:
		h.err = fmt.Errorf("reading the source at byte %d: %w", h.n, err)
		return n, h.err
	}
	return n, err
}

// Sum is the hex SHA-256 of what was read.
func (h *hashingReader) Sum() string { return hex.EncodeToString(h.h.Sum(nil)) }

// escapeKey escapes a key for X-Amz-Copy-Source.
func escapeKey(key string) string {
	out := make([]byte, 0, len(key))
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c == '/' || c == '-' || c == '_' || c == '.' || c == '~' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			out = append(out, c)
		} else {
			out = append(out, fmt.Sprintf("%%%02X", c)...)
		}
	}
	return string(out)
}

// nonRetryable wraps err as a non-retryable error of type typ.
func nonRetryable(typ string, format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), typ, nil)
}
