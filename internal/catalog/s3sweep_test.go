package catalog

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/vigilops/vigil/workflows"
)

func TestS3SweepInput(t *testing.T) {
	k, err := Lookup("s3-sweep")
	if err != nil || k.WorkflowType != workflows.S3SweepName {
		t.Fatalf("lookup %+v %v", k, err)
	}
	read := func(doc string) (Input, error) {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
			t.Fatal(err)
		}
		return k.Read(n.Content[0])
	}
	in, err := read("bucket: demo-inbox\nprefix: incoming/\nolderThan: 1m\npipeline: {name: demo, processor: {kind: none}}\n")
	if err != nil {
		t.Fatal(err)
	}
	sw := in.Args[0].(workflows.S3SweepInput)
	if sw.OlderThan == nil || sw.OlderThan.String() != "1m0s" || sw.Pipeline.Name != "demo" || in.Target != "demo-inbox/incoming/" {
		t.Fatalf("input %+v", sw)
	}
	for doc, want := range map[string]string{
		"bucket: demo-inbox\nprefix: incoming/\n":                                                               "pipeline: missing",
		"bucket: demo-inbox\nprefix: incoming\npipeline: {name: d, processor: {kind: none}}\n":                  "must end with '/'",
		"bucket: demo-inbox\nprefix: incoming/\nolderThan: -1m\npipeline: {name: d, processor: {kind: none}}\n": "negative",
		"bucket: demo-inbox\nprefix: incoming/\npipeline: {name: d, processor: {kind: ftp}}\n":                  "ftp",
		"bucket: demo-inbox\nprefx: incoming/\n":                                                                "prefx",
	} {
		if _, err := read(doc); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", doc, err, want)
		}
	}
}

// A kind whose failed runs alert themselves says so, so its schedule's
// watcher is started without AlertFailures: a failed scheduled sweep
// posted two alerts, its own and the watcher's (seen failing with
// s3-sweep's AlertsOnFailure false).
func TestKindsThatAlertSayAlertsOnFailure(t *testing.T) {
	for _, name := range Names() {
		k, _ := Lookup(name)
		if workflows.PostsFailureAlert(k.WorkflowType) && !k.AlertsOnFailure {
			t.Errorf("kind %s: its failed runs alert themselves, but AlertsOnFailure is false", name)
		}
	}
}
