package catalog

import (
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/internal/strictyaml"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// S3RestoreDoc is the input document of the s3restore workflow (a
// schedule's input; examples/s3-restore.yaml;
// schemas/s3-restore.schema.json is generated from it). Its keys are the
// flags of `starter s3 restore`, checked the same way:
//
//	bucket: demo-archive
//	key: db/2026-11-01.dump
//	to: file://db-01/srv/restore/db.dump
//	verify: full
type S3RestoreDoc struct {
	// Bucket holding the archived object.
	Bucket string `yaml:"bucket"`
	// Key of the object.
	Key string `yaml:"key"`
	// VersionID of the object (default: the current version).
	VersionID string `yaml:"versionId,omitempty"`
	// Days the restored copy stays available (default 7).
	Days int32 `yaml:"days,omitempty"`
	// Tier is Expedited, Standard (default) or Bulk.
	Tier string `yaml:"tier,omitempty"`
	// To delivers the restored object: s3://bucket/key (a server-side copy),
	// file://HOST/abs/path (downloaded on that worker host) or
	// file:///abs/path (on whichever host answers first); empty restores only.
	To string `yaml:"to,omitempty"`
	// Deadline for the restore (default 48h, at most 720h).
	Deadline flowdata.Duration `yaml:"deadline,omitempty"`
	// PollInterval fixes the HeadObject polling interval (default: adapted
	// to the tier; at least 1m).
	PollInterval flowdata.Duration `yaml:"pollInterval,omitempty"`
	// Verify is full to hash a file destination's bytes as they arrive and
	// re-read the file from disk before publishing it (file:// destinations
	// only); cheap (default) checks size and identity.
	Verify string `yaml:"verify,omitempty"`
	// HostWait is how long the run waits for a file destination's host
	// before it fails with HostUnavailable (default 24h).
	HostWait flowdata.Duration `yaml:"hostWait,omitempty"`
}

func init() {
	Register(Kind{
		Name:            workflows.S3RestoreFlow,
		WorkflowType:    workflows.S3RestoreName,
		Summary:         "restore an archived S3 object, then copy it or download it to a worker host",
		AlertsOnFailure: true,
		Read: func(n *yaml.Node) (Input, error) {
			d, err := strictyaml.FromNode(n, func(S3RestoreDoc) error { return nil })
			if err != nil {
				return Input{}, err
			}
			in := workflows.S3RestoreInput{Bucket: d.Bucket, Key: d.Key, VersionID: d.VersionID, Days: d.Days, Tier: d.Tier,
				Destination: d.To, Deadline: d.Deadline, PollInterval: d.PollInterval, Verify: d.Verify, HostWait: d.HostWait}
			if in.Days == 0 {
				in.Days = 7
			}
			if in.Tier == "" {
				in.Tier = flowdata.TierStandard
			}
			if in.Deadline == 0 {
				in.Deadline = flowdata.Duration(workflows.DefaultGlacierDeadline)
			}
			if err := ValidateS3Restore(in, Key); err != nil {
				return Input{}, err
			}
			return Input{Args: []any{in}, Target: in.Bucket}, nil
		},
	})
}

// ValidateS3Restore checks a restore before anything is contacted (what
// `starter s3 restore` and a schedule's input accept).
func ValidateS3Restore(in workflows.S3RestoreInput, name Namer) error {
	if err := location.ValidateBucket(in.Bucket); err != nil {
		return fmt.Errorf("%s: %v", name("bucket"), err)
	}
	switch {
	case in.Key == "":
		return fmt.Errorf("%s is required", name("key"))
	case in.Days < 1:
		return fmt.Errorf("%s %d: want at least 1", name("days"), in.Days)
	case in.Deadline <= 0:
		return fmt.Errorf("%s must be positive", name("deadline"))
	}
	if err := checkTier(in.Tier, name); err != nil {
		return err
	}
	if err := CheckWait(in.Deadline.D(), in.PollInterval.D(), name); err != nil {
		return err
	}
	if in.Destination != "" {
		if err := CheckDownloadDestination(in.Destination, name); err != nil {
			return err
		}
	}
	if err := checkDownloadVerify(in.Verify, in.Destination, name); err != nil {
		return err
	}
	return checkHostWait(in.HostWait, name)
}
