//go:build !nodev

package workerapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/vigilops/vigil/internal/awsconf"
)

// ExamplesInboxBucket is the bucket README's pipeline walkthrough and the
// files in examples/ (pipelines/reports.yaml, sweep.yaml) use. --dev creates
// it with one report under incoming/ (ExamplesReportKey), so `starter s3
// process` has an object to process on a fresh stack. Unlike demo-inbox it
// is not bound to a pipeline: README binds it with `starter s3 setup-events`.
const ExamplesInboxBucket = "reports-inbox"

// ExamplesReportKey is the report --dev puts into ExamplesInboxBucket.
const ExamplesReportKey = "incoming/2026-11-30 sales.csv"

// examplesReport is the report's content: a small CSV.
const examplesReport = `region,product,units,amount
emea,widget,120,2400.00
apac,widget,75,1500.00
amer,gadget,40,3200.00
`

// installExamplesFixtures creates ExamplesInboxBucket and puts the report
// under incoming/ when it is not there (a report processed on an earlier
// start was moved to bak/; it is put back so the walkthrough runs again).
func installExamplesFixtures(ctx context.Context, clients *awsconf.Clients, logger *slog.Logger) error {
	_, err := clients.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(ExamplesInboxBucket)})
	var owned *s3types.BucketAlreadyOwnedByYou
	var exists *s3types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		return fmt.Errorf("creating %s: %w", ExamplesInboxBucket, err)
	}
	if _, err := clients.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(ExamplesInboxBucket), Key: aws.String(ExamplesReportKey)}); err == nil {
		return nil
	}
	if _, err := clients.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(ExamplesInboxBucket), Key: aws.String(ExamplesReportKey),
		Body: strings.NewReader(examplesReport), ContentType: aws.String("text/csv")}); err != nil {
		return fmt.Errorf("s3://%s/%s: %w", ExamplesInboxBucket, ExamplesReportKey, err)
	}
	logger.Info("examples bucket ready", "bucket", ExamplesInboxBucket, "key", ExamplesReportKey)
	return nil
}
