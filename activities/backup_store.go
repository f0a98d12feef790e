package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/temporal"

	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// ErrTypeNoBackup: a restore of a backup name that has no backup yet (no
// latest.json).
const ErrTypeNoBackup = "NoBackup"

// ObjectRef names one stored backup and what it should hold.
type ObjectRef struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Verify re-reads the stored object whole and compares its SHA-256 with
// the one computed while it was uploaded (restic check --read-data's
// idea); a difference is a non-retryable ChecksumMismatch.
func (a *Backup) Verify(ctx context.Context, in ObjectRef) (string, error) {
	out, err := a.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(in.Bucket), Key: aws.String(in.Key)})
	if err != nil {
		return "", Classify("S3 GetObject s3://"+in.Bucket+"/"+in.Key, err)
	}
	defer out.Body.Close()
	progress := startProgress(ctx, in.Size)
	defer progress.Stop()
	h := newHashingReader(out.Body, in.Size, progress)
	if _, err := io.Copy(io.Discard, h); err != nil {
		return "", err
	}
	if got := h.Sum(); got != in.SHA256 {
		return got, nonRetryable(ErrTypeChecksumMismatch, "s3://%s/%s reads back with SHA-256 %s, %s was uploaded", in.Bucket, in.Key, got, in.SHA256)
	}
	return in.SHA256, nil
}

// PublishInput writes latest.json.
type PublishInput struct {
	Bucket string `json:"bucket"`
	// Dir is <prefix><name>/.
	Dir    string                `json:"dir"`
	Latest flowdata.BackupLatest `json:"latest"`
}

// Publish replaces <Dir>latest.json with the new backup's description.
func (a *Backup) Publish(ctx context.Context, in PublishInput) error {
	b, err := json.MarshalIndent(in.Latest, "", "  ")
	if err != nil {
		return err
	}
	_, err = a.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(in.Bucket), Key: aws.String(in.Dir + flowdata.BackupLatestFile),
		Body: bytes.NewReader(b), ContentType: aws.String("application/json")})
	return Classify("S3 PutObject latest.json", err)
}

// DeleteInput names an object to delete.
type DeleteInput struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
}

// Delete removes one object (a backup that failed verification).
func (a *Backup) Delete(ctx context.Context, in DeleteInput) error {
	_, err := a.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(in.Bucket), Key: aws.String(in.Key)})
	return Classify("S3 DeleteObject s3://"+in.Bucket+"/"+in.Key, err)
}

// RetentionInput says what to keep under Dir.
type RetentionInput struct {
	Bucket string `json:"bucket"`
	Dir    string `json:"dir"`
	// Keep the newest N (0: no count rule).
	Keep int `json:"keep,omitempty"`
	// MaxAge keeps those newer than Now-MaxAge (0: no age rule).
	MaxAge flowdata.Duration `json:"maxAge,omitempty"`
	Now    time.Time         `json:"now"`
	// Newest is the backup just written: never deleted.
	Newest string `json:"newest"`
}

// Retention deletes the backups under Dir that no rule keeps, and returns
// their keys. A backup is kept when it is among the newest Keep, or newer
// than MaxAge, or is Newest, or is the one latest.json names. With no
// rule at all nothing is deleted.
func (a *Backup) Retention(ctx context.Context, in RetentionInput) ([]string, error) {
	if in.Keep <= 0 && in.MaxAge <= 0 {
		return nil, nil
	}
	entries, err := ListBackups(ctx, a.S3, in.Bucket, in.Dir, false)
	if err != nil {
		return nil, err
	}
	latest, _ := readLatest(ctx, a.S3, in.Bucket, in.Dir)
	doomed := RetentionVictims(entries, in.Keep, in.MaxAge.D(), in.Now, in.Newest, latest.Key)
	var deleted []string
	for _, k := range doomed {
		if _, err := a.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(in.Bucket), Key: aws.String(k)}); err != nil {
			return deleted, Classify("S3 DeleteObject s3://"+in.Bucket+"/"+k, err)
		}
		deleted = append(deleted, k)
	}
	return deleted, nil
}

// RetentionVictims picks the entries (newest first) to delete: those
// neither among the newest keep, nor younger than maxAge, nor one of the
// protected keys. A rule that is 0 keeps nothing by itself; with both 0
// nothing is deleted.
func RetentionVictims(entries []flowdata.BackupEntry, keep int, maxAge time.Duration, now time.Time, protect ...string) []string {
	if keep <= 0 && maxAge <= 0 {
		return nil
	}
	var out []string
	for i, e := range entries {
		switch {
		case keep > 0 && i < keep,
			maxAge > 0 && now.Sub(e.Time) < maxAge,
			containsString(protect, e.Key):
			continue
		}
		out = append(out, e.Key)
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s && v != "" {
			return true
		}
	}
	return false
}

// ListBackups lists the backups under dir (<prefix><name>/), newest
// first, with their time (from the key) and size; withSHA also reads each
// object's SHA-256 from its metadata (one HeadObject each).
func ListBackups(ctx context.Context, api BackupS3API, bucket, dir string, withSHA bool) ([]flowdata.BackupEntry, error) {
	var entries []flowdata.BackupEntry
	req := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(dir), Delimiter: aws.String("/")}
	for {
		out, err := api.ListObjectsV2(ctx, req)
		if err != nil {
			return nil, Classify("S3 ListObjectsV2 s3://"+bucket+"/"+dir, err)
		}
		for _, o := range out.Contents {
			t, ok := BackupTime(aws.ToString(o.Key))
			if !ok {
				continue
			}
			entries = append(entries, flowdata.BackupEntry{Key: aws.ToString(o.Key), Time: t, Size: aws.ToInt64(o.Size)})
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		req.ContinuationToken = out.NextContinuationToken
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Key > entries[j].Key })
	if withSHA {
		for i := range entries {
			h, err := api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(entries[i].Key)})
			if err != nil {
				return nil, Classify("S3 HeadObject "+entries[i].Key, err)
			}
			entries[i].SHA256 = h.Metadata[MetaSHA256]
		}
	}
	return entries, nil
}

// BackupTime reads the UTC timestamp of a backup key
// (<dir><timestamp>.<ext>); ok is false for other keys (latest.json).
func BackupTime(key string) (time.Time, bool) {
	base := path.Base(key)
	ts, _, ok := strings.Cut(base, ".")
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(flowdata.BackupTimeFormat, ts)
	return t, err == nil
}

// readLatest reads <dir>latest.json; a missing one is a NotFound error.
func readLatest(ctx context.Context, api BackupS3API, bucket, dir string) (flowdata.BackupLatest, error) {
	var l flowdata.BackupLatest
	out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(dir + flowdata.BackupLatestFile)})
	if err != nil {
		return l, Classify("S3 GetObject s3://"+bucket+"/"+dir+flowdata.BackupLatestFile, err)
	}
	defer out.Body.Close()
	if err := json.NewDecoder(io.LimitReader(out.Body, 1<<20)).Decode(&l); err != nil {
		return l, nonRetryable(ErrTypeBadInput, "s3://%s/%s%s: %v", bucket, dir, flowdata.BackupLatestFile, err)
	}
	return l, nil
}

// ReadLatest reads the latest.json of a backup dir (for the starter).
func ReadLatest(ctx context.Context, api BackupS3API, bucket, dir string) (flowdata.BackupLatest, error) {
	return readLatest(ctx, api, bucket, dir)
}

// ResolveInput names what to restore.
type ResolveInput struct {
	From string `json:"from"`
	At   string `json:"at,omitempty"`
}

// Resolve finds the backup object to restore and the SHA-256 and size it
// must have: From is a backup dir (s3://bucket/prefix/name/, the latest
// backup or the one of At) or one backup object. No backup at all is a
// NotFound error (type NoBackup in its message's first words).
func (a *Backup) Resolve(ctx context.Context, in ResolveInput) (ObjectRef, error) {
	loc, err := location.Parse(in.From)
	if err != nil || loc.Scheme != location.S3 {
		return ObjectRef{}, BadInput("restore source %q: want s3://bucket/prefix/name/ or s3://bucket/key", in.From)
	}
	ref := ObjectRef{Bucket: loc.Bucket, Key: loc.Key}
	var latest flowdata.BackupLatest
	isDir := loc.Key == "" || strings.HasSuffix(loc.Key, "/")
	switch {
	case isDir && in.At != "":
		entries, err := ListBackups(ctx, a.S3, loc.Bucket, loc.Key, false)
		if err != nil {
			return ref, err
		}
		ref.Key = ""
		for _, e := range entries {
			if strings.HasPrefix(path.Base(e.Key), in.At+".") {
				ref.Key = e.Key
			}
		}
		if ref.Key == "" {
			return ref, nonRetryable(ErrTypeNotFound, "no backup of %s under %s", in.At, in.From)
		}
	case isDir:
		if latest, err = readLatest(ctx, a.S3, loc.Bucket, loc.Key); err != nil {
			var ae *temporal.ApplicationError
			// A missing bucket is not "no backup yet": it stays NotFound.
			if errors.As(err, &ae) && ae.Type() == ErrTypeNotFound && !isAPICode(err, "NoSuchBucket") {
				return ref, nonRetryable(ErrTypeNoBackup, "no backup yet under %s (no %s)", in.From, flowdata.BackupLatestFile)
			}
			return ref, err
		}
		ref.Key = latest.Key
	}
	h, err := a.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(ref.Bucket), Key: aws.String(ref.Key)})
	if err != nil {
		return ref, Classify("S3 HeadObject s3://"+ref.Bucket+"/"+ref.Key, err)
	}
	ref.Size = aws.ToInt64(h.ContentLength)
	ref.SHA256 = h.Metadata[MetaSHA256]
	if ref.SHA256 == "" && latest.Key == ref.Key {
		ref.SHA256 = latest.SHA256
	}
	if ref.SHA256 == "" {
		if latest, err := readLatest(ctx, a.S3, ref.Bucket, path.Dir(ref.Key)+"/"); err == nil && latest.Key == ref.Key {
			ref.SHA256 = latest.SHA256
		}
	}
	if ref.SHA256 == "" {
		return ref, nonRetryable(ErrTypeBadInput, "s3://%s/%s has no recorded SHA-256 (%s metadata): not a vigil backup, or its upload did not finish", ref.Bucket, ref.Key, MetaSHA256)
	}
	if s := h.Metadata[MetaSize]; s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n != ref.Size {
			return ref, nonRetryable(ErrTypeChecksumMismatch, "s3://%s/%s is %d bytes, %d were backed up", ref.Bucket, ref.Key, ref.Size, n)
		}
	}
	return ref, nil
}
