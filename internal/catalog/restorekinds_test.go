package catalog

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// readKind reads doc as the input of the kind name.
func readKind(t *testing.T, name, doc string) (Input, error) {
	t.Helper()
	k, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
		t.Fatal(err)
	}
	return k.Read(n.Content[0])
}

// refusals checks that each document is refused with one line holding
// its wanted text.
func refusals(t *testing.T, name string, cases map[string]string) {
	t.Helper()
	for doc, want := range cases {
		_, err := readKind(t, name, doc)
		// Unknown keys are refused by strictyaml, which lists them one a line.
		oneLine := strings.Contains(err.Error(), "not found in type") || !strings.Contains(err.Error(), "\n")
		if err == nil || !strings.Contains(err.Error(), want) || !oneLine || strings.Contains(err.Error(), ":pw@") {
			t.Errorf("%s %q: %v, want one line with %q", name, doc, err, want)
		}
	}
}

// TestGlacierInput: the glacier kind accepts what `starter glacier
// retrieve` accepts, verify full and hostWait included, fills the verb's
// defaults, and refuses what it refuses, naming the file's keys.
func TestGlacierInput(t *testing.T) {
	k, err := Lookup(workflows.GlacierFlow)
	if err != nil || k.WorkflowType != workflows.GlacierRetrieveName || !k.AlertsOnFailure {
		t.Fatalf("lookup %+v %v", k, err)
	}
	in, err := readKind(t, workflows.GlacierFlow, "vault: demo-vault\narchiveId: a1\nto: file://db-01/srv/x.bin\nverify: full\nhostWait: 2h\nchunkSize: 8\nbyteRange: 0-16777215\n")
	if err != nil {
		t.Fatal(err)
	}
	g := in.Args[0].(workflows.GlacierRetrieveInput)
	if g.Verify != flowdata.VerifyFull || g.HostWait.D().Hours() != 2 || g.ChunkSize != 8<<20 || g.Tier != flowdata.TierStandard ||
		g.Deadline.D() != workflows.DefaultGlacierDeadline || g.Parallel != workflows.DefaultGlacierParallel ||
		g.Destination != "file://db-01/srv/x.bin" || in.Target != "demo-vault" {
		t.Fatalf("input %+v, target %q", g, in.Target)
	}
	refusals(t, workflows.GlacierFlow, map[string]string{
		"archiveId: a\nto: file:///x\n":                                    "vault is required",
		"vault: v\nto: file:///x\n":                                        "give archiveId ID or inventory",
		"vault: v\narchiveId: a\ninventory: true\nto: file:///x\n":         "not both",
		"vault: v\ninventory: true\nto: file:///x\nverify: bogus\n":        `verify "bogus": want "cheap" or "full"`,
		"vault: v\ninventory: true\nto: s3://bkt/inv.json\nverify: full\n": "verify full applies to to file:// destinations",
		"vault: v\ninventory: true\nto: file:relative/x\n":                 "path must be absolute",
		"vault: v\ninventory: true\nto: file://srv\n":                      "want file://HOST/abs/path",
		"vault: v\ninventory: true\nto: s3://user:pw@bkt/k\n":              "credentials in a URL",
		"vault: v\ninventory: true\n":                                      "to is required",
		"vault: v\ninventory: true\nto: file:///x\ntier: Fast\n":           `tier "Fast"`,
		"vault: v\narchiveId: a\nto: file:///x\nchunkSize: 3\n":            "chunkSize 3: want a power of two",
		"vault: v\narchiveId: a\nto: file:///x\nparallel: 65\n":            "parallel 65: want 1 to 64",
		"vault: v\narchiveId: a\nto: file:///x\npollInterval: 10s\n":       "pollInterval 10s: want 0 (adapted) or at least 1m0s",
		"vault: v\narchiveId: a\nto: file:///x\ndeadline: 721h\n":          "deadline 721h0m0s: want at most",
		"vault: v\narchiveId: a\nto: file:///x\nhostWait: -1h\n":           "negative",
		"vault: v\narchiveId: a\nto: file:///x\nbyteRange: 1-2\n":          "megabyte-aligned",
		"vault: v\narchiveId: a\nto: file:///x\ndestination: file:///y\n":  "destination",
		"vault: v\narchiveId: a\nto: file:///x\nresume: {}\n":              "resume",
	})
}

// TestS3RestoreInput: the s3restore kind accepts what `starter s3
// restore` accepts and refuses what it refuses.
func TestS3RestoreInput(t *testing.T) {
	k, err := Lookup(workflows.S3RestoreFlow)
	if err != nil || k.WorkflowType != workflows.S3RestoreName || !k.AlertsOnFailure {
		t.Fatalf("lookup %+v %v", k, err)
	}
	in, err := readKind(t, workflows.S3RestoreFlow, "bucket: demo-archive\nkey: db/x.dump\nversionId: v1\nto: file://db-01/srv/x.dump\nverify: full\nhostWait: 30m\n")
	if err != nil {
		t.Fatal(err)
	}
	r := in.Args[0].(workflows.S3RestoreInput)
	if r.Verify != flowdata.VerifyFull || r.HostWait.D().Minutes() != 30 || r.Days != 7 || r.Tier != flowdata.TierStandard ||
		r.Deadline.D() != workflows.DefaultGlacierDeadline || r.VersionID != "v1" || in.Target != "demo-archive" {
		t.Fatalf("input %+v, target %q", r, in.Target)
	}
	if _, err := readKind(t, workflows.S3RestoreFlow, "bucket: demo-archive\nkey: k\n"); err != nil {
		t.Errorf("restore only (no to): %v", err)
	}
	refusals(t, workflows.S3RestoreFlow, map[string]string{
		"key: k\n":                                            "bucket: missing bucket name",
		"bucket: UPPER\nkey: k\n":                             "lowercase",
		"bucket: b-1\n":                                       "key is required",
		"bucket: b-1\nkey: k\ndays: -3\n":                     "days -3: want at least 1",
		"bucket: b-1\nkey: k\ntier: Turbo\n":                  `tier "Turbo"`,
		"bucket: b-1\nkey: k\nverify: bogus\n":                `verify "bogus"`,
		"bucket: b-1\nkey: k\nverify: full\n":                 "verify full applies to to file:// destinations",
		"bucket: b-1\nkey: k\nto: s3://b-2/k\nverify: full\n": "verify full applies to to file:// destinations",
		"bucket: b-1\nkey: k\nto: file:rel/x\n":               "path must be absolute",
		"bucket: b-1\nkey: k\nto: https://u:pw@h/x\n":         "credentials in a URL",
		"bucket: b-1\nkey: k\nto: http://h/x\n":               "want file:///abs/path or s3://bucket/key",
		"bucket: b-1\nkey: k\npollInterval: 1s\n":             "want 0 (adapted) or at least 1m0s",
		"bucket: b-1\nkey: k\nhostWait: -1s\n":                "negative",
		"bucket: b-1\nkey: k\ndestination: file:///x\n":       "destination",
	})
}

// TestRestoreInput: the restore kind (a restore drill) accepts what
// `starter backup restore` accepts, and refuses what it refuses.
func TestRestoreInput(t *testing.T) {
	k, err := Lookup(workflows.RestoreFlow)
	if err != nil || k.WorkflowType != workflows.RestoreName || !k.AlertsOnFailure {
		t.Fatalf("lookup %+v %v", k, err)
	}
	in, err := readKind(t, workflows.RestoreFlow, "from: s3://demo-backups/cache/\nto: file://scratch-01/srv/drill/cache.bin\nverify: full\nhostWait: 1h\n")
	if err != nil {
		t.Fatal(err)
	}
	r := in.Args[0].(flowdata.RestoreInput)
	if r.Verify != flowdata.VerifyFull || r.HostWait.D().Hours() != 1 || r.To != "file://scratch-01/srv/drill/cache.bin" || in.Target != "s3://demo-backups/cache/" {
		t.Fatalf("input %+v, target %q", r, in.Target)
	}
	refusals(t, workflows.RestoreFlow, map[string]string{
		"from: s3://b-1/n/\nto: file:///x\nverify: bogus\n":             `verify "bogus"`,
		"from: s3://b-1/n/\nto: dir:/srv/x\nverify: full\n":             "verify full applies to file:// destinations only",
		"from: s3://b-1/n/\nto: file:rel/x\n":                           "path must be absolute",
		"from: s3://b-1/n/\nto: https://u:pw@h/x\n":                     "credentials in a URL",
		"from: s3://b-1/n/\nto: s3://b-1/other\n":                       "want file:///abs/path",
		"from: file:///x\nto: file:///y\n":                              "want s3://bucket/prefix/name/",
		"from: s3://b-1/n/\nat: yesterday\nto: file:///x\n":             "20261201T030000Z",
		"from: s3://b-1/n/\nto: file:///x\nhostWait: -1h\n":             "negative",
		"from: s3://b-1/n/\nto: file:///x\nauth: {bearerTokenEnv: T}\n": "auth applies to http(s) destinations only",
		"from: s3://b-1/n/\nto: file:///x\nverfy: full\n":               "verfy",
	})
}
