package workerapp

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

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

// DemoArchive is a demo vault archive, for the banner and tests.
type DemoArchive struct {
	Description, ID, TreeHash string
	Size                      int64
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
	return out, nil
}

// logSetup logs what a setup changed.
func logSetup(logger *slog.Logger, rep setup.Report) {
	for _, s := range rep.Steps {
		if s.Action != "found" {
			logger.Info("demo setup", "action", s.Action, "resource", s.Resource, "name", s.Name)
		}
	}
}
