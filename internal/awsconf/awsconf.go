// Package awsconf builds the AWS SDK configuration and clients the worker and
// the starter share: the SDK's default chain (AWS_ENDPOINT_URL and
// AWS_ENDPOINT_URL_<SERVICE> respected), path-style S3 whenever an endpoint
// is overridden, and a fixed configuration for the local cloud. The SDK
// logs through slog (SDKLogger).
package awsconf

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Local-cloud defaults, the same values LocalStack users know.
const (
	LocalRegion    = "us-east-1"
	LocalAccessKey = "test"
	LocalSecretKey = "test"
	LocalAccountID = "000000000000"
)

// Clients bundles the service clients vigil uses.
type Clients struct {
	Config  aws.Config
	S3      *s3.Client
	SQS     *sqs.Client
	SNS     *sns.Client
	Glacier *glacier.Client
}

// Load reads the default chain. When endpoint is not empty it overrides
// every service's endpoint (as AWS_ENDPOINT_URL would).
func Load(ctx context.Context, endpoint string) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{config.WithLogger(SDKLogger(nil))}
	if endpoint != "" {
		opts = append(opts, config.WithBaseEndpoint(endpoint))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, fmt.Errorf("no AWS region: set AWS_REGION (or a profile with a region)")
	}
	return cfg, nil
}

// Local is the configuration for vigil's local cloud at endpoint: static
// test credentials, region us-east-1. It ignores the environment.
func Local(endpoint string) aws.Config {
	return aws.Config{
		Region:       LocalRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(LocalAccessKey, LocalSecretKey, ""),
		BaseEndpoint: aws.String(endpoint),
		Logger:       SDKLogger(nil),
		// The local cloud never throttles; keep the SDK's standard retryer.
	}
}

// NewClients builds the service clients from cfg. S3 uses path-style
// addressing whenever an endpoint is overridden (emulators and most
// S3-compatible stores cannot do virtual-hosted buckets).
func NewClients(cfg aws.Config) *Clients {
	pathStyle := cfg.BaseEndpoint != nil || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
	return &Clients{
		Config:  cfg,
		S3:      s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = pathStyle }),
		SQS:     sqs.NewFromConfig(cfg),
		SNS:     sns.NewFromConfig(cfg),
		Glacier: glacier.NewFromConfig(cfg),
	}
}
