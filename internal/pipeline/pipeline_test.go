package pipeline

import (
	"strings"
	"testing"

	"github.com/vigilops/vigil/workflows/flowdata"
)

// issueExample is the pipeline of the S3 reprocessing issue, as users write it.
const issueExample = `
name: reports
processor:
  kind: exec                      # http | exec | copy | none
  exec: {command: import-report, args: ["{{.Path}}", "--etag={{.ETag}}"], timeout: 10m}
archive: {prefix: bak/}
deadLetter: {prefix: failed/}
retry: {initialInterval: 5s, backoffCoefficient: 2, maximumAttempts: 5}
`

func TestParseExamples(t *testing.T) {
	p, err := Parse([]byte(issueExample))
	if err != nil {
		t.Fatal(err)
	}
	if p.Processor.Exec.Timeout.String() != "10m0s" || p.Retry.MaximumAttempts != 5 || p.Archive.Prefix != "bak/" {
		t.Fatalf("parsed %+v", p)
	}
	for _, doc := range []string{
		`{"name": "j", "processor": {"kind": "http", "http": {"url": "https://importer.internal/ingest/{{.Key}}", "bearerTokenEnv": "IMPORTER_TOKEN", "body": "presigned-url"}}}`,
		"name: c\nprocessor: {kind: copy, copy: {bucket: other-bucket, prefix: processed/}}\narchive: {bucket: archive-bucket, prefix: done/}\n",
		"name: n\nprocessor: {kind: none}\n",
		"name: b\nprocessor: {kind: http, http: {url: 'http://x/y', basicAuth: {user: u, passwordEnv: PW}}}\nnotifyOnFailure: TEAM_SLACK\n",
	} {
		if _, err := Parse([]byte(doc)); err != nil {
			t.Errorf("%s: %v", doc, err)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for doc, want := range map[string]string{
		"name: x\nprocessor: {kind: ftp}\n":                                                                `processor.kind "ftp"`,
		"name: x\nprocessor: {kind: none}\nextra: 1\n":                                                     "extra",
		"name: x\nprocessor: {kind: exec}\n":                                                               "needs a processor.exec section",
		"name: x\nprocessor: {kind: none, copy: {prefix: a/}}\n":                                           "does not belong",
		"name: x\nprocessor: {kind: http, http: {url: 'ftp://x'}}\n":                                       "http:// or https://",
		"name: x\nprocessor: {kind: http, http: {url: 'http://x/{{.Path}}'}}\n":                            ".Path is only known to exec",
		"name: x\nprocessor: {kind: http, http: {url: 'http://x', bearerTokenEnv: '1A'}}\n":                "bearerTokenEnv",
		"name: x\nprocessor: {kind: http, http: {url: 'http://x', headers: {Authorization: x}}}\n":         "Authorization",
		"name: x\nprocessor: {kind: exec, exec: {command: c, args: ['{{.Nope}}']}}\n":                      "Nope",
		"name: x\nprocessor: {kind: none}\narchive: {prefix: bak}\n":                                       "must end with '/'",
		"name: x\nprocessor: {kind: none}\narchive: {prefix: /bak/}\n":                                     "must not start with '/'",
		"name: x\nprocessor: {kind: none}\narchive: {prefix: done/}\ndeadLetter: {prefix: done/failed/}\n": "overlap",
		"name: x\nprocessor: {kind: none}\nretry: {backoffCoefficient: 0.5}\n":                             "backoffCoefficient",
		"name: x\nprocessor: {kind: none}\nretry: {initialInterval: -5s}\n":                                "negative",
		"name: 'a b'\nprocessor: {kind: none}\n":                                                           "name",
		"name: x\nprocessor: {kind: copy, copy: {}}\n":                                                     "processor.copy",
		"name: x\nprocessor: {kind: none}\ntaskQueue: 'heavy queue'\n":                                     "taskQueue",
	} {
		_, err := Parse([]byte(doc))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one with %q", doc, err, want)
		}
	}
}

func TestExcludedPrefixes(t *testing.T) {
	p := flowdata.Pipeline{Processor: flowdata.Processor{Kind: flowdata.ProcessorCopy, Copy: &flowdata.S3Location{Prefix: "incoming/copies/"}},
		Archive: &flowdata.S3Location{Bucket: "elsewhere", Prefix: "bak/"}}
	got := p.ExcludedPrefixes("inbox")
	if strings.Join(got, ",") != "failed/,incoming/copies/" {
		t.Fatalf("excluded %v", got)
	}
	if !p.Excludes("inbox", "incoming/copies/x") || p.Excludes("inbox", "incoming/x") || !p.Excludes("other", "failed/x") {
		t.Fatal("Excludes")
	}
}

func TestWorkflowIDKeepsKeysApart(t *testing.T) {
	a := flowdata.S3ObjectWorkflowID("b", "ünï %41", `"e1"`)
	if a != "s3obj/b/%C3%BCn%C3%AF %2541@e1" {
		t.Fatalf("id %q", a)
	}
	if flowdata.S3ObjectWorkflowID("b", "%C3%BC", "e") == flowdata.S3ObjectWorkflowID("b", "ü", "e") {
		t.Fatal("two keys share an ID")
	}
}

// TestURLCredentialsRefusedAndNotEchoed: user info is refused even where
// url.Parse fails on it, and no refusal quotes a credential.
func TestURLCredentialsRefusedAndNotEchoed(t *testing.T) {
	for doc, want := range map[string]string{
		"name: x\nprocessor: {kind: http, http: {url: 'http://ops:p%zzs3cr3t@h/'}}\n": "credentials",
		"name: x\nprocessor: {kind: http, http: {url: 'ftp://h/x?sig=s3cr3t'}}\n":     "http:// or https://",
	} {
		_, err := Parse([]byte(doc))
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%q: error %v, want one with %q and without the secret", doc, err, want)
		}
	}
}
