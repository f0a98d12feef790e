package workflows

import (
	"fmt"

	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// StaticSummary is the one-line summary the Web UI shows for a run whose
// input is input (a flow's input type, or a pointer to one): what it acts
// on and where it delivers. Every starter of vigil runs sets it as the
// run's StaticSummary. It is "" for an input of no flow.
func StaticSummary(input any) string {
	if s, ok := input.(interface{ StaticSummary() string }); ok {
		return s.StaticSummary()
	}
	return ""
}

// StaticSummary names the archive (its first characters: the full id is
// in the static details, the VigilArchiveID search attribute and the
// memo) or inventory, the vault and the destination.
func (in GlacierRetrieveInput) StaticSummary() string {
	what := "Glacier archive " + abbrev(in.ArchiveID)
	if in.Inventory {
		what = "Glacier inventory"
	}
	return fmt.Sprintf("%s from %s → %s", what, in.Vault, location.Redact(in.Destination))
}

// StaticSummary names the object and the destination.
func (in S3RestoreInput) StaticSummary() string {
	dest := in.Destination
	if dest == "" {
		dest = "restore only"
	}
	return fmt.Sprintf("S3 restore s3://%s/%s → %s", in.Bucket, in.Key, location.Redact(dest))
}

// StaticSummary names the job and its kind.
func (in BatchJobInput) StaticSummary() string {
	return fmt.Sprintf("batch job %s (%s)", in.Job.Name, in.Job.Kind)
}

// StaticSummary names the swept prefix and the pipeline.
func (in S3SweepInput) StaticSummary() string {
	return fmt.Sprintf("S3 sweep of s3://%s/%s → pipeline %s", in.Bucket, in.Prefix, in.Pipeline.Name)
}

// StaticDetails is the Markdown "Details" the Web UI shows for a run whose
// input is input: its fields, redacted (flowdata.StaticDetails). Every
// starter of vigil runs sets it next to StaticSummary.
func StaticDetails(input any) string { return flowdata.StaticDetails(input) }
