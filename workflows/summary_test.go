package workflows

import (
	"testing"

	"github.com/vigilops/vigil/workflows/flowdata"
)

func TestStaticSummary(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{GlacierRetrieveInput{Vault: "demo-vault", ArchiveID: "A1", Destination: "file:///tmp/x"}, "Glacier archive A1 from demo-vault → file:///tmp/x"},
		{&GlacierRetrieveInput{Vault: "v", Inventory: true, Destination: "s3://b/inv.json"}, "Glacier inventory from v → s3://b/inv.json"},
		{S3RestoreInput{Bucket: "b", Key: "k"}, "S3 restore s3://b/k → restore only"},
		{BatchJobInput{Job: flowdata.BatchJob{Name: "nightly", Kind: "http"}}, "batch job nightly (http)"},
		{flowdata.S3ObjectInput{Object: flowdata.S3ObjectRef{Bucket: "in", Key: "incoming/a.csv"}, Pipeline: flowdata.Pipeline{Name: "p"}, Source: flowdata.SourceSweep},
			"S3 object s3://in/incoming/a.csv → pipeline p (sweep)"},
		{S3SweepInput{Bucket: "in", Prefix: "incoming/", Pipeline: flowdata.Pipeline{Name: "p"}}, "S3 sweep of s3://in/incoming/ → pipeline p"},
		{flowdata.BackupInput{Name: "cache", Source: "http://h/snapshot", Target: "s3://bk/"}, "backup cache of http://h/snapshot → s3://bk/"},
		{flowdata.RestoreInput{From: "s3://bk/cache/", To: "file:///tmp/c"}, "restore s3://bk/cache/ → file:///tmp/c"},
		{flowdata.DatastoreExportInput{Project: "p", Bucket: "b"}, "Datastore export of p → gs://b/datastore/"},
		{flowdata.DatastoreImportInput{Project: "p", InputURL: "gs://b/x.overall_export_metadata"}, "Datastore import into p from gs://b/x.overall_export_metadata"},
		{42, ""},
	}
	for _, c := range cases {
		if got := StaticSummary(c.in); got != c.want {
			t.Errorf("StaticSummary(%T) = %q, want %q", c.in, got, c.want)
		}
	}
}
