package catalog

import (
	"fmt"
	"math/bits"

	"go.yaml.in/yaml/v3"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/strictyaml"
	"github.com/vigilops/vigil/internal/treehash"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// GlacierRetrieveDoc is the input document of the glacier workflow (a
// schedule's input; examples/glacier-retrieve.yaml;
// schemas/glacier-retrieve.schema.json is generated from it). Its keys are
// the flags of `starter glacier retrieve`, checked the same way:
//
//	vault: demo-vault
//	archiveId: kKB7ymWJ...        # or inventory: true
//	to: file://db-01/srv/restore/db.tar
//	verify: full
type GlacierRetrieveDoc struct {
	// Vault to retrieve from.
	Vault string `yaml:"vault"`
	// ArchiveID to retrieve (or Inventory).
	ArchiveID string `yaml:"archiveId,omitempty"`
	// Inventory retrieves the vault's inventory (JSON) instead of an archive.
	Inventory bool `yaml:"inventory,omitempty"`
	// Tier is Expedited, Standard (default) or Bulk.
	Tier string `yaml:"tier,omitempty"`
	// ByteRange "start-end" of the archive in bytes (MiB aligned).
	ByteRange string `yaml:"byteRange,omitempty"`
	// To is the destination: file://HOST/abs/path (on that worker host),
	// file:///abs/path (on whichever host answers first) or s3://bucket/key.
	To string `yaml:"to"`
	// Deadline for the job to complete (default 48h, at most 720h).
	Deadline flowdata.Duration `yaml:"deadline,omitempty"`
	// PollInterval fixes the polling fallback interval (default: adapted to
	// the tier; at least 1m).
	PollInterval flowdata.Duration `yaml:"pollInterval,omitempty"`
	// ChunkSize is the download range size in MiB, a power of two (default
	// 64 for a file; for S3 sized to fit 10,000 parts).
	ChunkSize int64 `yaml:"chunkSize,omitempty"`
	// Parallel is the number of ranges downloaded at once (1 to 64, default 4).
	Parallel int `yaml:"parallel,omitempty"`
	// Fsync syncs every range and the finished file to disk before counting
	// them done (file destinations).
	Fsync bool `yaml:"fsync,omitempty"`
	// Verify is full to re-read the finished file from disk and check its
	// tree hash before publishing it (file destinations); cheap (default)
	// checks size, identity and each range's hash as written.
	Verify string `yaml:"verify,omitempty"`
	// SNSTopic is the SNS topic ARN for this job's notification (default:
	// the vault's).
	SNSTopic string `yaml:"snsTopic,omitempty"`
	// AlertWebhookEnv names the worker env var holding a Slack webhook URL
	// for expiry warnings.
	AlertWebhookEnv string `yaml:"alertWebhookEnv,omitempty"`
	// HostWait is how long the run waits for a file destination's host
	// before it fails with HostUnavailable (default 24h).
	HostWait flowdata.Duration `yaml:"hostWait,omitempty"`
}

func init() {
	Register(Kind{
		Name:            workflows.GlacierFlow,
		WorkflowType:    workflows.GlacierRetrieveName,
		Summary:         "retrieve a Glacier archive or inventory to a file or an S3 object, verified",
		AlertsOnFailure: true,
		Read: func(n *yaml.Node) (Input, error) {
			d, err := strictyaml.FromNode(n, func(GlacierRetrieveDoc) error { return nil })
			if err != nil {
				return Input{}, err
			}
			in := workflows.GlacierRetrieveInput{Vault: d.Vault, ArchiveID: d.ArchiveID, Inventory: d.Inventory,
				Tier: d.Tier, ByteRange: d.ByteRange, Destination: d.To, Deadline: d.Deadline, PollInterval: d.PollInterval,
				Parallel: d.Parallel, Fsync: d.Fsync, Verify: d.Verify, SNSTopic: d.SNSTopic,
				AlertWebhookEnv: d.AlertWebhookEnv, HostWait: d.HostWait}
			if in.Tier == "" {
				in.Tier = flowdata.TierStandard
			}
			if in.Deadline == 0 {
				in.Deadline = flowdata.Duration(workflows.DefaultGlacierDeadline)
			}
			if in.Parallel == 0 {
				in.Parallel = workflows.DefaultGlacierParallel
			}
			if err := PrepareGlacierRetrieve(&in, d.ChunkSize, Key); err != nil {
				return Input{}, err
			}
			return Input{Args: []any{in}, Target: in.Vault}, nil
		},
	})
}

// PrepareGlacierRetrieve checks a retrieval before anything is contacted
// (what `starter glacier retrieve` and a schedule's input accept) and sets
// its ChunkSize from chunkMiB.
func PrepareGlacierRetrieve(in *workflows.GlacierRetrieveInput, chunkMiB int64, name Namer) error {
	if err := CheckVaultName(in.Vault, name); err != nil {
		return err
	}
	switch {
	case in.ArchiveID != "" && in.Inventory:
		return fmt.Errorf("give %s or %s, not both", name("archiveId"), name("inventory"))
	case in.ArchiveID == "" && !in.Inventory:
		return fmt.Errorf("give %s ID or %s", name("archiveId"), name("inventory"))
	case in.Inventory && in.ByteRange != "":
		return fmt.Errorf("%s applies to archives, not inventories", name("byteRange"))
	case chunkMiB < 0 || chunkMiB > 0 && bits.OnesCount64(uint64(chunkMiB)) != 1:
		return fmt.Errorf("%s %d: want a power of two (MiB), like 64", name("chunkSize"), chunkMiB)
	case in.Parallel < 1 || in.Parallel > 64:
		return fmt.Errorf("%s %d: want 1 to 64", name("parallel"), in.Parallel)
	case in.Deadline <= 0:
		return fmt.Errorf("%s must be positive", name("deadline"))
	}
	if err := checkTier(in.Tier, name); err != nil {
		return err
	}
	if err := CheckWait(in.Deadline.D(), in.PollInterval.D(), name); err != nil {
		return err
	}
	if in.ByteRange != "" {
		r, err := activities.ParseByteRange(in.ByteRange)
		if err != nil {
			return fmt.Errorf("%s: %v", name("byteRange"), err)
		}
		if r.Start%treehash.ChunkSize != 0 || (r.End+1)%treehash.ChunkSize != 0 {
			return fmt.Errorf("%s %s: Glacier needs megabyte-aligned ranges (start and end+1 multiples of 1048576)", name("byteRange"), in.ByteRange)
		}
	}
	if err := CheckDownloadDestination(in.Destination, name); err != nil {
		return err
	}
	if err := checkDownloadVerify(in.Verify, in.Destination, name); err != nil {
		return err
	}
	if err := checkHostWait(in.HostWait, name); err != nil {
		return err
	}
	in.ChunkSize = chunkMiB << 20
	var size int64 // known before the job only for a byte range
	if r, err := activities.ParseByteRange(in.ByteRange); err == nil {
		size = r.Len()
	}
	if _, err := workflows.ChunkSizeFor(in.Destination, size, in.ChunkSize); err != nil {
		return fmt.Errorf("%s: %v", name("chunkSize"), err)
	}
	return nil
}

// CheckVaultName checks a vault name the way Glacier does: 1 to 255
// letters, digits, '_', '-' or '.'.
func CheckVaultName(v string, name Namer) error {
	if v == "" {
		return fmt.Errorf("%s is required", name("vault"))
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return fmt.Errorf("%s %q: want 1 to 255 letters, digits, '_', '-' or '.'", name("vault"), v)
		}
	}
	if len(v) > 255 {
		return fmt.Errorf("%s %q: want 1 to 255 letters, digits, '_', '-' or '.'", name("vault"), v)
	}
	return nil
}
