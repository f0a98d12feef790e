package jobspec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilops/vigil/workflows/flowdata"
)

// The two job files of the issue, as given.
const nightlyDump = `name: nightly-dump
kind: http            # http | exec | s3-put | sqs-send
http:
  method: POST
  url: http://127.0.0.1:5000/s3dump
  basicAuth: {user: ops, passwordEnv: CACHE_PASSWORD}
  expectStatus: [200, 204]
  timeout: 30s
retry: {initialInterval: 10s, backoffCoefficient: 2, maximumAttempts: 5}
`

const dummyFeed = `name: dummy-feed
kind: s3-put
s3Put: {bucket: feed-store, key: 'dummy-feed/{{.ScheduledTime.Format "2006-01-02T15:04:05"}}-{{.RunID}}', content: "batch job"}
`

func TestParseIssueExamples(t *testing.T) {
	j, err := Parse([]byte(nightlyDump))
	if err != nil {
		t.Fatal(err)
	}
	if j.HTTP.Method != "POST" || j.HTTP.BasicAuth.PasswordEnv != "CACHE_PASSWORD" || j.HTTP.Timeout.D() != 30*time.Second ||
		j.Retry.MaximumAttempts != 5 || j.Retry.InitialInterval.D() != 10*time.Second || len(j.HTTP.ExpectStatus) != 2 {
		t.Errorf("nightly-dump = %+v %+v %+v", j, j.HTTP, j.Retry)
	}
	j, err = Parse([]byte(dummyFeed))
	if err != nil {
		t.Fatal(err)
	}
	if j.S3Put.Bucket != "feed-store" || !strings.Contains(j.S3Put.Key, ".RunID") {
		t.Errorf("dummy-feed = %+v", j.S3Put)
	}
	// JSON with the same keys.
	j, err = Parse([]byte(`{"name":"n","kind":"exec","exec":{"command":"true","timeout":"5m"}}`))
	if err != nil || j.Exec.Timeout.D() != 5*time.Minute {
		t.Errorf("json job = %+v, %v", j, err)
	}
}

func TestParseErrors(t *testing.T) {
	cases := map[string]string{
		"kind: http\nname: x\nhttp: {url: http://h/}\nretyr: {}\n": "retyr",
		"name: x\nkind: cron\n": "kind \"cron\"",
		"name: x\nkind: http\n": "needs a \"http\" section",
		"name: x\nkind: http\nhttp: {url: http://h/}\nexec: {command: ls}\n":                    "does not belong",
		"name: x\nkind: http\nhttp: {url: ftp://h/}\n":                                          "absolute http",
		"name: x\nkind: http\nhttp: {url: 'http://u:p@h/'}\n":                                   "credentials",
		"name: x\nkind: http\nhttp: {url: http://h/, headers: {Authorization: x}}\n":            "secret",
		"name: x\nkind: http\nhttp: {url: http://h/, timeout: soon}\n":                          "duration",
		"name: x\nkind: http\nhttp: {url: http://h/, basicAuth: {user: u, passwordEnv: p-w}}\n": "passwordEnv",
		"name: x\nkind: s3-put\ns3Put: {bucket: Bad_Bucket, key: k, content: c}\n":              "s3Put.bucket",
		"name: x\nkind: s3-put\ns3Put: {bucket: feed, key: '{{.Nope}}', content: c}\n":          "unknown template field .Nope",
		"name: x\nkind: s3-put\ns3Put: {bucket: feed, key: '{{.RunID', content: c}\n":           "s3Put.key",
		"name: x\nkind: exec\nexec: {command: ls, dir: rel}\n":                                  "absolute",
		"name: x\nkind: exec\nexec: {command: ls}\nretry: {backoffCoefficient: 0.5}\n":          "backoffCoefficient",
		"name: 'a b'\nkind: exec\nexec: {command: ls}\n":                                        "name",
		"[1, 2": "did not find expected",
		"name: x\nkind: exec\nexec: {command: ls}\ntaskQueue: vigil@host\n":          "taskQueue",
		"name: x\nkind: exec\nexec: {command: ls}\ntimeout: 200h\n":                  "timeout 200h0m0s: want 0 (the default, 1h) or up to 168h0m0s",
		"name: x\nkind: exec\nexec: {command: ls}\nretry: {maximumAttempts: 1000}\n": "retry.maximumAttempts 1000",
		"name: x\nkind: exec\nexec: {command: ls}\nretry: {initialInterval: 10ms}\n": "retry.initialInterval 10ms",
		"name: x\nkind: exec\nexec: {command: ls, host: h, hostWait: 2000h}\n":       "exec.hostWait",
	}
	for in, want := range cases {
		_, err := Parse([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want error containing %q", in, err, want)
		}
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "job.yaml")
	if err := os.WriteFile(p, []byte(nightlyDump), 0o644); err != nil {
		t.Fatal(err)
	}
	if j, err := ReadFile(p); err != nil || j.Kind != flowdata.JobKindHTTP {
		t.Fatalf("ReadFile = %+v, %v", j, err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file error = %v", err)
	}
}

// TestURLCredentialsRefusedAndNotEchoed: user info is refused even where
// url.Parse fails on it, and no refusal quotes a credential.
func TestURLCredentialsRefusedAndNotEchoed(t *testing.T) {
	for in, want := range map[string]string{
		"name: x\nkind: http\nhttp: {url: 'http://ops:p%zzs3cr3t@h/'}\n": "credentials",
		"name: x\nkind: http\nhttp: {url: 'http://ops@h/'}\n":            "credentials",
		"name: x\nkind: http\nhttp: {url: 'ftp://h/x?token=s3cr3t'}\n":   "absolute http",
	} {
		_, err := Parse([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("Parse(%q) = %v, want an error with %q and without the secret", in, err, want)
		}
	}
}
