package activities

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/vigilops/vigil/workflows/flowdata"
)

// S3API is the part of the S3 client that vigil's S3 activities use.
type S3API interface {
	// UploadAPIClient: PutObject and the multipart calls (big copies are
	// streamed into a multipart upload).
	manager.UploadAPIClient
	CopyObject(context.Context, *s3.CopyObjectInput, ...func(*s3.Options)) (*s3.CopyObjectOutput, error)
	UploadPartCopy(context.Context, *s3.UploadPartCopyInput, ...func(*s3.Options)) (*s3.UploadPartCopyOutput, error)
	HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// S3 holds the activities that act on S3.
type S3 struct {
	Client S3API
}

// S3PutJobInput is one s3-put job attempt.
type S3PutJobInput struct {
	Job flowdata.S3PutJob `json:"job"`
	Ctx JobContext        `json:"ctx"`
}

// PutJobObject renders the key and content templates and writes the object.
func (a *S3) PutJobObject(ctx context.Context, in S3PutJobInput) (JobOutput, error) {
	key, err := Render("key", in.Job.Key, in.Ctx)
	if err != nil {
		return JobOutput{}, err
	}
	content, err := Render("content", in.Job.Content, in.Ctx)
	if err != nil {
		return JobOutput{}, err
	}
	put := &s3.PutObjectInput{Bucket: aws.String(in.Job.Bucket), Key: aws.String(key), Body: strings.NewReader(content)}
	if in.Job.ContentType != "" {
		put.ContentType = aws.String(in.Job.ContentType)
	}
	out, err := a.Client.PutObject(ctx, put)
	if err != nil {
		return JobOutput{}, Classify("S3 PutObject s3://"+in.Job.Bucket+"/"+key, err)
	}
	return JobOutput{Summary: fmt.Sprintf("put s3://%s/%s (%d bytes, etag %s)", in.Job.Bucket, key, len(content), aws.ToString(out.ETag))}, nil
}
