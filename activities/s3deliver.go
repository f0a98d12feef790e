package activities

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// MaxCopyObjectSize is the largest object one CopyObject copies: S3
// answers InvalidRequest for a larger source.
const MaxCopyObjectSize int64 = 5 << 30

// CopyStreamPartSize is the part size of the streamed copy of objects
// larger than MaxCopyObjectSize (grown for objects that would need more
// than 10,000 parts). copyStreamMemory bounds the part buffers the upload
// holds, (concurrency+2) × part size, with 1 to 4 parts in flight.
const (
	CopyStreamPartSize int64 = 32 << 20
	copyStreamMemory   int64 = 256 << 20
)

// copyObjectLimit and copyPartSize are MaxCopyObjectSize and
// CopyStreamPartSize; tests lower them to stream small objects.
var (
	copyObjectLimit = MaxCopyObjectSize
	copyPartSize    = CopyStreamPartSize
)

// DeliverObjectInput copies or downloads one S3 object.
type DeliverObjectInput struct {
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	VersionID string `json:"versionId,omitempty"`
	// Dest is s3://bucket/key (server-side copy) or file:///abs/path.
	Dest string `json:"dest"`
	// Size of the object, for progress.
	Size int64 `json:"size"`
	// Verify is flowdata.VerifyFull to hash a file download as it arrives
	// and re-read the file from disk before the rename, checking the two
	// SHA-256 agree (s3deliver_verify.go); "" or VerifyCheap checks size
	// and identity only. S3 destinations are server-side copies: S3 checks
	// those, and a multipart copy's completion is checked either way.
	Verify string `json:"verify,omitempty"`
}

// DeliverObject copies the object server-side to an S3 destination (one
// CopyObject up to MaxCopyObjectSize, heartbeating while S3 copies; above,
// a multipart upload of UploadPartCopy parts, still server-side, and only
// where the server cannot do that the object is streamed through the
// worker into a multipart upload), or
// streams it to a file on the worker host (1 MiB buffer, resuming from the
// last heartbeat's offset if the object still has the heartbeat's ETag,
// renamed into place when complete).
func (a *S3) DeliverObject(ctx context.Context, in DeliverObjectInput) (FinishResult, error) {
	dest, err := location.Parse(in.Dest)
	if err != nil {
		return FinishResult{}, BadInput("destination: %v", err)
	}
	if err := flowdata.CheckVerify(in.Verify); err != nil {
		return FinishResult{}, BadInput("%v", err)
	}
	src := fmt.Sprintf("s3://%s/%s", in.Bucket, in.Key)
	switch dest.Scheme {
	case location.S3:
		if in.Size > copyObjectLimit {
			return a.bigCopy(ctx, in, dest, src)
		}
		stop := heartbeatWhile(ctx, in.Size)
		_, err := a.Client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(dest.Bucket), Key: aws.String(dest.Key),
			CopySource: aws.String(CopySource(in.Bucket, in.Key, in.VersionID))})
		stop()
		if err != nil {
			if isAPICode(err, "InvalidRequest") {
				// Too big for one copy after all (the size was unknown or
				// stale): copy it in parts.
				return a.bigCopy(ctx, in, dest, src)
			}
			return FinishResult{}, Classify("S3 CopyObject "+src+" → "+dest.String(), err)
		}
		return FinishResult{Location: dest.String(), Bytes: in.Size}, nil
	case location.File:
		return a.download(ctx, in, dest, src)
	}
	return FinishResult{}, BadInput("destination %s: want s3:// or file://", dest)
}

// DownloadProgress is the heartbeat of a download to a file: the bytes
// written to the partial file, the ETag of the object they are of, and the
// partial file's identity token. A retry resumes with a ranged GET
// conditional on that ETag, so the file never mixes two versions of the
// object, and only into the same partial file (one re-created on a
// replaced disk has another token or none): otherwise it starts over.
// With full verify, Hash is the SHA-256 state of the Done bytes as they
// were received (s3deliver_verify.go).
type DownloadProgress struct {
	Done int64  `json:"done"`
	ETag string `json:"etag"`
	ID   string `json:"id,omitempty"`
	Hash []byte `json:"hash,omitempty"`
}

func (a *S3) download(ctx context.Context, in DeliverObjectInput, dest location.Location, src string) (FinishResult, error) {
	var prog DownloadProgress
	if activity.HasHeartbeatDetails(ctx) {
		// Details that do not decode (a plain byte count, heartbeated by
		// workers before the ETag was kept) or lack the ETag start over:
		// without it a resume could not tell the object did not change.
		if err := activity.GetHeartbeatDetails(ctx, &prog); err != nil || prog.ETag == "" || prog.Done < 0 {
			prog = DownloadProgress{}
		}
	}
	full := in.Verify == flowdata.VerifyFull
	var h hash.Hash
	if full {
		var ok bool
		if h, ok = newStreamHash(prog.Hash); !ok || prog.Done > 0 && prog.Hash == nil {
			// Nobody hashed the prefix as it arrived: download it again.
			activity.GetLogger(ctx).Info("resume without the received bytes' hash; starting over to verify them all", "object", src, "done", prog.Done)
			prog = DownloadProgress{}
		}
	}
	if err := localDestination(dest.Path); err != nil {
		return FinishResult{}, err
	}
	// A partial file of this workflow's own (the name is the same for
	// every attempt, so a retry resumes in it): two restores to one path
	// never write into one file.
	partial := partialFor(dest.Path, activity.GetInfo(ctx).WorkflowExecution.ID)
	adoptPartial(dest.Path+PartialSuffix, partial, prog)
	f, err := resumePartial(partial, &prog)
	if err != nil {
		return FinishResult{}, err
	}
	defer f.Close()
	out, done, err := a.getFrom(ctx, in, src, prog)
	if err != nil {
		return FinishResult{}, err
	}
	defer out.Body.Close()
	etag := aws.ToString(out.ETag)
	if full && done == 0 {
		h = sha256.New() // from the start (getFrom may have started over)
	}
	if err := f.Truncate(done); err != nil {
		return FinishResult{}, err
	}
	if _, err := f.Seek(done, io.SeekStart); err != nil {
		return FinishResult{}, err
	}
	buf := make([]byte, 1<<20)
	last := time.Now()
	for {
		n, rerr := out.Body.Read(buf)
		if n > 0 {
			if _, err := f.Write(buf[:n]); err != nil {
				return FinishResult{}, fmt.Errorf("destination: %w", err)
			}
			if full {
				h.Write(buf[:n])
			}
			done += int64(n)
			s3restoreBytes.Add(float64(n))
			if time.Since(last) >= heartbeatEvery {
				if err := f.Sync(); err != nil {
					return FinishResult{}, err
				}
				activity.RecordHeartbeat(ctx, DownloadProgress{Done: done, ETag: etag, ID: prog.ID, Hash: streamHashState(h)})
				last = time.Now()
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return FinishResult{}, fmt.Errorf("reading %s at %d: %w", src, done, rerr)
		}
	}
	if in.Size > 0 && done != in.Size {
		return FinishResult{}, fmt.Errorf("%s: got %d bytes, want %d", src, done, in.Size)
	}
	if err := f.Sync(); err != nil {
		return FinishResult{}, err
	}
	if err := checkIdentity(partial, prog.ID); err != nil {
		return FinishResult{}, err
	}
	afterDownload(partial)
	if full {
		final := DownloadProgress{Done: done, ETag: etag, ID: prog.ID, Hash: streamHashState(h)}
		if err := verifyDownload(ctx, f, partial, src, h, func() any { return final }); err != nil {
			return FinishResult{}, err
		}
	}
	if err := publishFile(partial, dest.Path, false); err != nil {
		return FinishResult{}, err
	}
	return FinishResult{Location: dest.String(), Bytes: done}, nil
}

// adoptPartial renames the partial file a delivery started by an earlier
// version left under the shared name (legacy, "<path>.vigil-partial") to
// this workflow's own name, when it is the heartbeat's file (its identity
// token), so a restore in flight across the upgrade resumes instead of
// starting over and leaving the old file behind. Anything else is left
// alone: resumePartial decides.
func adoptPartial(legacy, partial string, prog DownloadProgress) {
	if prog.Done == 0 || prog.ID == "" || legacy == partial {
		return
	}
	if _, err := os.Lstat(partial); !errors.Is(err, os.ErrNotExist) {
		return
	}
	if checkIdentity(legacy, prog.ID) != nil {
		return
	}
	if os.Rename(identityPath(legacy), identityPath(partial)) == nil {
		if os.Rename(legacy, partial) != nil {
			_ = os.Rename(identityPath(partial), identityPath(legacy))
		}
	}
}

// resumePartial opens the partial file of a download for the heartbeat
// prog: the same file (present, with prog's identity, at least prog.Done
// bytes long) to resume in, or else a new one (mode 0600, new identity,
// prog reset to start over).
func resumePartial(partial string, prog *DownloadProgress) (*os.File, error) {
	if prog.Done > 0 && prog.ID != "" {
		f, err := openPartialForWrite(partial, prog.ID)
		if err == nil {
			if fi, err := f.Stat(); err == nil && fi.Size() >= prog.Done {
				return f, nil
			}
			f.Close()
		} else if !IsDestinationReplaced(err) {
			return nil, err
		}
	}
	*prog = DownloadProgress{}
	if err := os.Remove(partial); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fileError("destination", partial, err)
	}
	f, err := os.OpenFile(partial, os.O_RDWR|os.O_CREATE|os.O_EXCL, partialMode)
	if err != nil {
		return nil, fileError("destination", partial, err)
	}
	if prog.ID, err = newIdentity(partial); err != nil {
		f.Close()
		return nil, fmt.Errorf("destination identity: %w", err)
	}
	return f, nil
}

// getFrom GETs the object from prog.Done on (If-Match prog.ETag), or whole
// when prog.Done is 0, and returns the body with the offset it starts at.
// A resume the server cannot serve as asked starts over at 0: the object
// changed (412), the range is past its end (416), or the answer is not the
// range asked for (a 200 that ignored Range is the whole object, kept; a
// 206 of another range is dropped for a new whole GET).
func (a *S3) getFrom(ctx context.Context, in DeliverObjectInput, src string, prog DownloadProgress) (*s3.GetObjectOutput, int64, error) {
	req := &s3.GetObjectInput{Bucket: aws.String(in.Bucket), Key: aws.String(in.Key)}
	if in.VersionID != "" {
		req.VersionId = aws.String(in.VersionID)
	}
	if prog.Done == 0 {
		out, err := a.Client.GetObject(ctx, req)
		if err != nil {
			return nil, 0, Classify("S3 GetObject "+src, err)
		}
		return wholeObject(in, src, out)
	}
	log := activity.GetLogger(ctx)
	req.Range = aws.String(fmt.Sprintf("bytes=%d-", prog.Done))
	req.IfMatch = aws.String(prog.ETag)
	out, err := a.Client.GetObject(ctx, req)
	switch {
	case err == nil:
	case isPreconditionFailed(err):
		log.Info("object changed since the download started; starting over", "object", src, "etag", prog.ETag, "done", prog.Done)
		return a.getFrom(ctx, in, src, DownloadProgress{})
	case httpStatus(err) == http.StatusRequestedRangeNotSatisfiable || isAPICode(err, "InvalidRange"):
		log.Info("resume offset past the object's end; starting over", "object", src, "done", prog.Done)
		return a.getFrom(ctx, in, src, DownloadProgress{})
	default:
		return nil, 0, Classify("S3 GetObject "+src, err)
	}
	status := httpStatus(out)
	start, ok := contentRangeStart(aws.ToString(out.ContentRange))
	switch {
	case ok && start == prog.Done && status != http.StatusOK:
		return out, prog.Done, nil
	case status == http.StatusOK || status == 0 && aws.ToString(out.ContentRange) == "":
		// Range ignored: the body is the whole object (of the ETag the
		// answer carries); write it from the start.
		log.Info("ranged GET answered with the whole object; starting over", "object", src, "done", prog.Done)
		return wholeObject(in, src, out)
	}
	out.Body.Close()
	log.Info("ranged GET answered with another range; starting over", "object", src, "done", prog.Done,
		"status", status, "contentRange", aws.ToString(out.ContentRange))
	return a.getFrom(ctx, in, src, DownloadProgress{})
}

// wholeObject checks the answer of a GET of the whole object: one of
// another size than the restore reported replaced it (a retry would find
// the same), which fails the delivery.
func wholeObject(in DeliverObjectInput, src string, out *s3.GetObjectOutput) (*s3.GetObjectOutput, int64, error) {
	if size := aws.ToInt64(out.ContentLength); in.Size > 0 && out.ContentLength != nil && size != in.Size {
		out.Body.Close()
		return nil, 0, temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s changed since its restore: now %d bytes (ETag %s), the restore reported %d; restore it again",
			src, size, aws.ToString(out.ETag), in.Size), ErrTypeObjectChanged, nil)
	}
	return out, 0, nil
}

// httpStatus is the HTTP status of an SDK error or output (0 if unknown).
func httpStatus(v any) int {
	switch v := v.(type) {
	case error:
		var re interface{ HTTPStatusCode() int }
		if errors.As(v, &re) {
			return re.HTTPStatusCode()
		}
	case *s3.GetObjectOutput:
		if r, ok := awsmiddleware.GetRawResponse(v.ResultMetadata).(*smithyhttp.Response); ok && r != nil {
			return r.StatusCode
		}
	}
	return 0
}

// contentRangeStart reads the first byte of Content-Range ("bytes
// 100-199/200").
func contentRangeStart(cr string) (int64, bool) {
	rest, ok := strings.CutPrefix(cr, "bytes ")
	if !ok {
		return 0, false
	}
	first, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(first, 10, 64)
	return n, err == nil
}

// bigCopy copies an object above CopyObject's limit with CopyInParts,
// of the version a HeadObject finds now.
func (a *S3) bigCopy(ctx context.Context, in DeliverObjectInput, dest location.Location, src string) (FinishResult, error) {
	head := &s3.HeadObjectInput{Bucket: aws.String(in.Bucket), Key: aws.String(in.Key)}
	if in.VersionID != "" {
		head.VersionId = aws.String(in.VersionID)
	}
	h, err := a.Client.HeadObject(ctx, head)
	if err != nil {
		return FinishResult{}, Classify("S3 HeadObject "+src, err)
	}
	n, err := CopyInParts(ctx, a.Client, PartCopy{Bucket: in.Bucket, Key: in.Key, VersionID: in.VersionID, Source: h,
		DestBucket: dest.Bucket, DestKey: dest.Key})
	if err != nil {
		return FinishResult{}, err
	}
	return FinishResult{Location: dest.String(), Bytes: n}, nil
}
