package activities

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/vigilops/vigil/internal/secretenv"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// ErrTypeProcessorRejected: the processor refused the object for good
// (an http processor's 4xx answer); retrying cannot help.
const ErrTypeProcessorRejected = "ProcessorRejected"

// Object states CheckObject reports.
const (
	// ObjectPresent: the object still has the run's ETag; process it.
	ObjectPresent = "present"
	// ObjectSuperseded: the key holds a newer version (its own run).
	ObjectSuperseded = "superseded"
	// ObjectProcessed: the source is gone and its archive copy exists.
	ObjectProcessed = "processed"
	// ObjectDeadLettered: the source is gone and its dead-letter copy exists.
	ObjectDeadLettered = "dead-lettered"
	// ObjectGone: the source is gone, with no archive or dead-letter copy.
	ObjectGone = "gone"
)

// ErrorMetadataKey is the user-metadata key (x-amz-meta-vigil-error) of a
// dead-lettered object holding the processing error.
const ErrorMetadataKey = "vigil-error"

// S3ObjectAPI is the part of the S3 client the S3Object activities use.
type S3ObjectAPI interface {
	HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	CopyObject(context.Context, *s3.CopyObjectInput, ...func(*s3.Options)) (*s3.CopyObjectOutput, error)
	DeleteObject(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	// CopyAPI: objects above CopyObject's limit are moved in parts.
	CopyAPI
}

var _ S3ObjectAPI = (*s3.Client)(nil)

// S3Object holds the activities of the S3Object and S3Sweep workflows.
type S3Object struct {
	// Client is the S3 client.
	Client S3ObjectAPI
	// Presign signs GET URLs for http processors with body presigned-url;
	// nil makes them fail (Config).
	Presign func(ctx context.Context, bucket, key, versionID string) (string, error)
	// HTTP sends http processors' requests; nil uses outbound.Default
	// (link-local addresses refused).
	HTTP *http.Client
	// Env resolves secrets named in pipelines (never logged) through the
	// worker's allow-list; nil is the default allow-list over the process
	// environment.
	Env *secretenv.Env
	// TempDir holds the downloads directory of exec processors
	// (DownloadsDirName); empty is os.TempDir().
	TempDir string
	// DownloadMaxAge is the age after which a local copy no running
	// activity uses is removed; zero is DefaultDownloadMaxAge.
	DownloadMaxAge time.Duration
	// Starter starts S3Object runs for sweeps; nil makes sweeps fail.
	Starter ObjectStarter

	downloads downloads
	// copyLimit and partSize are MaxCopyObjectSize and CopyStreamPartSize
	// when zero; tests lower them to move small objects in parts.
	copyLimit, partSize int64
}

// S3ObjectCheckInput asks where an object version stands.
type S3ObjectCheckInput struct {
	Object     flowdata.S3ObjectRef `json:"object"`
	Archive    *flowdata.S3Location `json:"archive,omitempty"`
	DeadLetter *flowdata.S3Location `json:"deadLetter,omitempty"`
}

// S3ObjectCheck is where an object version stands.
type S3ObjectCheck struct {
	// State is one of the Object* constants.
	State string `json:"state"`
	// ETag (unquoted) and Size of the object found (source, archive or
	// dead-letter copy).
	ETag string `json:"etag,omitempty"`
	Size int64  `json:"size,omitempty"`
	// Location of the archive or dead-letter copy found.
	Location string `json:"location,omitempty"`
}

// CheckObject tells whether the object still has the run's ETag, was
// replaced, or is gone (and then whether its archive or dead-letter copy
// exists: a run after a completed run's retention lands here).
func (a *S3Object) CheckObject(ctx context.Context, in S3ObjectCheckInput) (S3ObjectCheck, error) {
	o := in.Object
	head, err := a.head(ctx, o.Bucket, o.Key, o.VersionID)
	if err != nil {
		return S3ObjectCheck{}, err
	}
	if head != nil {
		etag := unquote(aws.ToString(head.ETag))
		st := S3ObjectCheck{State: ObjectPresent, ETag: etag, Size: aws.ToInt64(head.ContentLength)}
		if o.ETag != "" && unquote(o.ETag) != etag {
			st.State = ObjectSuperseded
		}
		return st, nil
	}
	for _, c := range []struct {
		loc   *flowdata.S3Location
		def   string
		state string
	}{{in.Archive, flowdata.DefaultArchivePrefix, ObjectProcessed}, {in.DeadLetter, flowdata.DefaultDeadLetterPrefix, ObjectDeadLettered}} {
		b, k := c.loc.Resolve(o.Bucket, o.Key, c.def)
		h, err := a.head(ctx, b, k, "")
		if err != nil {
			return S3ObjectCheck{}, err
		}
		if h != nil && sameVersion(o.ETag, unquote(aws.ToString(h.ETag))) {
			return S3ObjectCheck{State: c.state, ETag: unquote(aws.ToString(h.ETag)), Size: aws.ToInt64(h.ContentLength), Location: "s3://" + b + "/" + k}, nil
		}
	}
	return S3ObjectCheck{State: ObjectGone}, nil
}

// sameVersion reports whether a copy with ETag got is of the version with
// ETag want. A CopyObject keeps a single-part ETag (the MD5) but gives a
// multipart object ("...-N") a new one, so those match on existence.
func sameVersion(want, got string) bool {
	want = unquote(want)
	return want == "" || want == got || strings.Contains(want, "-")
}

// head is HeadObject, with nil for a missing object.
func (a *S3Object) head(ctx context.Context, bucket, key, versionID string) (*s3.HeadObjectOutput, error) {
	out, err := a.Client.HeadObject(ctx, headRequest(bucket, key, versionID))
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, Classify(fmt.Sprintf("S3 HeadObject s3://%s/%s", bucket, key), err)
	}
	return out, nil
}

func isNotFound(err error) bool {
	var nf *s3types.NotFound
	var nk *s3types.NoSuchKey
	return errors.As(err, &nf) || errors.As(err, &nk) || isAPICode(err, "NotFound", "NoSuchKey")
}

func unquote(etag string) string { return strings.Trim(etag, `"`) }

// CopySource is CopyObject's x-amz-copy-source for an object version: the
// key URL-encoded except for '/' and the unreserved characters (so '+'
// and spaces survive servers that decode form-style).
func CopySource(bucket, key, versionID string) string {
	var b strings.Builder
	b.WriteString(bucket + "/")
	for _, c := range []byte(key) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~', c == '/':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	if versionID != "" {
		b.WriteString("?versionId=" + url.QueryEscape(versionID))
	}
	return b.String()
}
