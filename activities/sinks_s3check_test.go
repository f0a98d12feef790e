package activities_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/vigilops/vigil/activities"
)

// headAnswer is a HeadObject that answers out.
type headAnswer struct{ out *s3.HeadObjectOutput }

func (h headAnswer) HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	return h.out, nil
}

// TestCheckCompletedUpload: after CompleteMultipartUpload the object must
// have the bytes and the parts that were sent; otherwise the delivery
// fails with a non-retryable ChecksumMismatch.
func TestCheckCompletedUpload(t *testing.T) {
	const size, parts = 24 << 20, 3
	for _, tc := range []struct {
		name     string
		done     string // the completion's ETag
		head     s3.HeadObjectOutput
		mismatch bool
	}{
		{"as sent", `"abc-3"`, s3.HeadObjectOutput{ContentLength: aws.Int64(size), ETag: aws.String(`"abc-3"`)}, false},
		{"plain ETag on the object", `"abc-3"`, s3.HeadObjectOutput{ContentLength: aws.Int64(size), ETag: aws.String(`"0123"`)}, false},
		{"short object", `"abc-3"`, s3.HeadObjectOutput{ContentLength: aws.Int64(size - 1)}, true},
		{"parts missing", `"abc-2"`, s3.HeadObjectOutput{ContentLength: aws.Int64(size)}, true},
		{"parts count", `"abc"`, s3.HeadObjectOutput{ContentLength: aws.Int64(size), PartsCount: aws.Int32(4)}, true},
	} {
		err := activities.CheckCompleted(context.Background(), headAnswer{&tc.head}, "b", "k",
			&s3.CompleteMultipartUploadOutput{ETag: aws.String(tc.done)}, parts, size)
		if got := isAppErr(err, activities.ErrTypeChecksumMismatch); got != tc.mismatch || !tc.mismatch && err != nil {
			t.Errorf("%s: %v, want mismatch %v", tc.name, err, tc.mismatch)
		}
	}
}
