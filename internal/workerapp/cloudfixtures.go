//go:build !nodev

package workerapp

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/detdata"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/localcloud/glacieremu"
	"github.com/vigilops/vigil/internal/setup"
)

// Demo resources that --dev creates in the local cloud, so the retrieval
// commands work right after start.
const (
	// DemoVault is the demo Glacier vault.
	DemoVault = "demo-vault"
	// DemoArchiveBucket is the demo bucket of DEEP_ARCHIVE objects.
	DemoArchiveBucket = "demo-archive"
)

// demoArchive is a deterministic archive of the demo vault.
type demoArchive struct {
	description string
	seed        uint64
	size        int64
}

// demoArchives are created once (found again by description on restart).
var demoArchives = []demoArchive{
	{"demo-256MiB.bin", 256, 256 << 20},
	{"demo-16MiB.bin", 16, 16 << 20},
	{"demo-small.bin", 1, 4096},
}

// installCloudFixtures creates the demo vault with its archives and runs
// the same setup as `starter glacier setup`, so that completions reach the
// notification queue. It is idempotent.
func installCloudFixtures(ctx context.Context, cloud *localcloud.Cloud, clients *awsconf.Clients, logger *slog.Logger) ([]DemoArchive, error) {
	g := cloud.Glacier
	if err := g.CreateVault(DemoVault); err != nil {
		return nil, err
	}
	have, err := g.Archives(DemoVault)
	if err != nil {
		return nil, err
	}
	var out []DemoArchive
	for _, d := range demoArchives {
		i := slices.IndexFunc(have, func(a glacieremu.ArchiveInfo) bool { return a.Description == d.description })
		if i >= 0 {
			out = append(out, DemoArchive{Description: d.description, ID: have[i].ID, TreeHash: have[i].TreeHash, Size: have[i].Size})
			continue
		}
		id, hash, err := g.PutArchive(DemoVault, detdata.New(d.seed, d.size), d.description)
		if err != nil {
			return nil, fmt.Errorf("demo archive %s: %w", d.description, err)
		}
		logger.Info("demo archive created", "vault", DemoVault, "description", d.description, "bytes", d.size)
		out = append(out, DemoArchive{Description: d.description, ID: id, TreeHash: hash, Size: d.size})
	}
	rep, err := setup.Glacier(ctx, clients, setup.GlacierOptions{Vault: DemoVault, QueueName: NotificationQueue})
	if err != nil {
		return nil, fmt.Errorf("demo vault notifications: %w", err)
	}
	logSetup(logger, rep)
	if err := installArchiveBucket(ctx, cloud, clients, logger); err != nil {
		return nil, err
	}
	return out, nil
}

// demoObjects are the DEEP_ARCHIVE objects of the demo bucket.
var demoObjects = []demoArchive{
	{"db/2025/full.dump", 2025, 8 << 20},
	{"logs/2025-12.tar", 12, 1 << 20},
}

// installArchiveBucket creates the demo bucket of DEEP_ARCHIVE objects and
// runs the same setup as `starter s3 setup-restore-events`.
func installArchiveBucket(ctx context.Context, cloud *localcloud.Cloud, clients *awsconf.Clients, logger *slog.Logger) error {
	if err := cloud.S3.CreateBucket(DemoArchiveBucket); err != nil {
		return fmt.Errorf("demo bucket: %w", err)
	}
	for _, o := range demoObjects {
		_, err := clients.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(DemoArchiveBucket), Key: aws.String(o.description)})
		if err == nil {
			continue
		}
		if err := cloud.S3.PutArchivedObject(DemoArchiveBucket, o.description, detdata.New(o.seed, o.size), o.size, "DEEP_ARCHIVE"); err != nil {
			return fmt.Errorf("demo object %s: %w", o.description, err)
		}
		logger.Info("demo object created", "bucket", DemoArchiveBucket, "key", o.description, "storageClass", "DEEP_ARCHIVE")
	}
	rep, err := setup.S3Events(ctx, clients, setup.RestoreEvents(DemoArchiveBucket, NotificationQueue))
	if err != nil {
		return fmt.Errorf("demo bucket notifications: %w", err)
	}
	logSetup(logger, rep)
	return nil
}

// logSetup logs what a setup changed.
func logSetup(logger *slog.Logger, rep setup.Report) {
	for _, s := range rep.Steps {
		if s.Action != "found" {
			logger.Info("demo setup", "action", s.Action, "resource", s.Resource, "name", s.Name)
		}
	}
}
