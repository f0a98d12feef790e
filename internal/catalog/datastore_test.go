package catalog

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

func TestDatastoreExportKind(t *testing.T) {
	k, err := Lookup("datastore-export")
	if err != nil || k.WorkflowType != workflows.DatastoreExportName {
		t.Fatalf("lookup: %+v, %v", k, err)
	}
	read := func(doc string) (Input, error) {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
			t.Fatal(err)
		}
		return k.Read(n.Content[0])
	}
	in, err := read("project: demo-project\nbucket: demo-backups\nkinds: [User, Order]\ndeadline: 90m\nreport: {timeZone: Asia/Tokyo}\n")
	if err != nil {
		t.Fatal(err)
	}
	got := in.Args[0].(flowdata.DatastoreExportInput)
	if in.Target != "demo-project" || got.Deadline.D() != 90*time.Minute || len(got.Kinds) != 2 || got.Bucket != "demo-backups" {
		t.Errorf("read %+v", got)
	}
	for doc, want := range map[string]string{
		"project: demo-project\noutputUrlPrefix: s3://x\n":                  "gs://",
		"project: Demo\nbucket: b\n":                                        "project",
		"project: demo-project\nbucket: b\ndeadlin: 1h\n":                   "unknown field",
		"project: demo-project\nbucket: b\nreport: {timeZone: Mars/Base}\n": "time zone",
		"project: demo-project\nbucket: b\ndeadline: 721h\n":                "at most 720h",
		"project: demo-project\nbucket: b\npoll: {max: 10s}\n":              "poll max 10s: want at least 1m",
		"project: demo-project\nbucket: b\npoll: {initial: 1s}\n":           "poll initial 1s: want at least 5s",
		"project: demo-project\nbucket: b\npoll: {fastFor: 2h}\n":           "at most 1h",
		"project: demo-project\nbucket: b\nresume: {runId: r}\n":            "resume: set by vigil",
	} {
		if _, err := read(doc); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", doc, err, want)
		}
	}
}
