package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"
	"github.com/vigilops/vigil/internal/cli"
)

func (a *app) s3GenerateCommand() *cobra.Command {
	var bucket, prefix string
	var count int
	cmd := &cobra.Command{
		Use:   "generate --bucket BUCKET --prefix PREFIX --count N",
		Short: "Upload N small generated files under a prefix (to try a pipeline, e.g. on the --dev demo-inbox)",
		Example: `  starter s3 generate --bucket demo-inbox --prefix incoming/ --count 50
  starter list --flow s3-object`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkBucketPrefix(bucket, prefix); err != nil {
				return err
			}
			if count < 1 || count > 100000 {
				return cli.Usagef("--count %d: want 1 to 100000", count)
			}
			ctx := cmd.Context()
			aw, err := a.awsClients(ctx)
			if err != nil {
				return err
			}
			stamp := time.Now().UTC().Format("20060102T150405")
			keys := make([]string, 0, count)
			for i := range count {
				key := fmt.Sprintf("%sgenerated-%s-%05d.txt", prefix, stamp, i)
				body := fmt.Sprintf("vigil generated file %d of %d at %s\n", i+1, count, stamp)
				if _, err := aw.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
					Body: strings.NewReader(body)}); err != nil {
					return fmt.Errorf("uploading s3://%s/%s: %w", bucket, key, err)
				}
				keys = append(keys, key)
			}
			if a.format == cli.FormatJSON {
				return cli.WriteJSON(a.stdout, keys)
			}
			fmt.Fprintf(a.stdout, "uploaded %d files to s3://%s/%s\n", count, bucket, prefix)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&bucket, "bucket", "", "bucket (required)")
	f.StringVar(&prefix, "prefix", "incoming/", "key prefix")
	f.IntVar(&count, "count", 10, "number of files")
	return cmd
}
