package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/vigilops/vigil/internal/localcloud/s3lite"
	"github.com/vigilops/vigil/internal/setup"
	"github.com/vigilops/vigil/internal/testenv"
)

// writePipeline writes a pipeline file and returns its path.
func writePipeline(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "p.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const nonePipeline = "name: archive-only\nprocessor: {kind: none}\n"

func TestS3ProcessUsageErrorsExitTwo(t *testing.T) {
	good := writePipeline(t, nonePipeline)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"s3", "setup-events", "--bucket", "inbox", "--prefix", "incoming/", "--pipeline", "/nonexistent/p.yaml"}, "pipeline file"},
		{[]string{"s3", "setup-events", "--bucket", "inbox", "--prefix", "incoming/", "--pipeline", writePipeline(t, "name: x\nprocessor: {kind: ftp}\n")}, `processor.kind "ftp"`},
		{[]string{"s3", "setup-events", "--bucket", "inbox", "--prefix", "incoming/", "--pipeline", writePipeline(t, "name: x\nprocesor: {kind: none}\n")}, "procesor"},
		{[]string{"s3", "setup-events", "--bucket", "inbox", "--prefix", "incoming/", "--pipeline",
			writePipeline(t, "name: x\nprocessor: {kind: http, http: {url: 'https://i/x', basicAuth: {user: u}}}\n")}, "passwordEnv"},
		{[]string{"s3", "setup-events", "--bucket", "inbox", "--prefix", "incoming", "--pipeline", good}, "must end with '/'"},
		{[]string{"s3", "setup-events", "--bucket", "B_ad", "--prefix", "incoming/", "--pipeline", good}, "--bucket"},
		{[]string{"s3", "sweep", "--bucket", "inbox", "--prefix", "incoming/", "--older-than", "-1m", "--pipeline", good}, "must not be negative"},
		{[]string{"s3", "sweep", "--bucket", "inbox", "--prefix", "/incoming/", "--pipeline", good}, "must not start with '/'"},
		{[]string{"s3", "process", "--bucket", "inbox"}, "--key is required"},
		{[]string{"s3", "process", "--bucket", "inbox", "--key", "k", "--pipeline", writePipeline(t, "name: x\nprocessor: {kind: exec, exec: {command: c, args: ['{{.Nope}}']}}\n")}, "Nope"},
		{[]string{"s3", "unbind", "--bucket", "inbox", "--prefix", "x"}, "must end with '/'"},
	} {
		r := runOffline(t, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) || !oneLineErr(r.stderr) {
			t.Errorf("starter %q: exit %d, stderr %q; want exit 2 and one line with %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

func TestS3ProcessCommands(t *testing.T) {
	h, cloud, awsc := newS3Harness(t)
	ctx := context.Background()
	if err := cloud.S3.CreateBucket("inbox"); err != nil {
		t.Fatal(err)
	}
	p := writePipeline(t, nonePipeline)
	r := h.runWithin(30*time.Second, "s3", "setup-events", "--bucket", "inbox", "--prefix", "incoming/", "--pipeline", p)
	if r.code != 0 || !strings.Contains(r.stdout, "bound    s3://inbox/incoming/ to pipeline archive-only") {
		t.Fatalf("setup-events: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := h.runWithin(30*time.Second, "s3", "setup-events", "--bucket", "inbox", "--prefix", "incoming/", "--pipeline", p); r.code != 0 ||
		!strings.Contains(r.stdout, "found") {
		t.Fatalf("setup-events again: %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = h.runWithin(30*time.Second, "-o", "json", "s3", "bindings")
	var rows []bindingRow
	if err := json.Unmarshal([]byte(r.stdout), &rows); r.code != 0 || err != nil || len(rows) != 1 || rows[0].Archive != "s3://inbox/bak/" {
		t.Fatalf("bindings: %d %q %v", r.code, r.stdout, err)
	}
	// A set-up that fails (no such bucket) leaves the bindings as they were.
	if r := h.runWithin(30*time.Second, "s3", "setup-events", "--bucket", "no-such-inbox", "--prefix", "incoming/", "--pipeline", p); r.code != 3 {
		t.Fatalf("setup-events on a missing bucket: exit %d, stdout %q, stderr %q; want 3", r.code, r.stdout, r.stderr)
	}
	r = h.runWithin(30*time.Second, "-o", "json", "s3", "bindings")
	if err := json.Unmarshal([]byte(r.stdout), &rows); r.code != 0 || err != nil || len(rows) != 1 || rows[0].Bucket != "inbox" {
		t.Fatalf("bindings after a failed set-up: %d %q %v; want only s3://inbox/incoming/", r.code, r.stdout, err)
	}
	// A prefix under that binding's archive would never start a run (its
	// records are taken for vigil's own output): refused before the
	// bucket's notification is touched.
	if r := h.runWithin(30*time.Second, "s3", "setup-events", "--bucket", "inbox", "--prefix", "bak/incoming/", "--pipeline", p); r.code != 2 ||
		!strings.Contains(r.stderr, "lies under s3://inbox/bak/, an output of the binding of s3://inbox/incoming/") || r.stdout != "" {
		t.Fatalf("setup-events under the archive: exit %d, stdout %q, stderr %q; want exit 2, nothing set up", r.code, r.stdout, r.stderr)
	}

	put := func(key string) {
		if _, err := awsc.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("inbox"), Key: aws.String(key), Body: strings.NewReader(key)}); err != nil {
			t.Fatal(err)
		}
	}
	exists := func(key string) bool {
		_, err := awsc.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("inbox"), Key: aws.String(key)})
		return err == nil
	}
	// The event path archives new objects.
	if r := h.runWithin(30*time.Second, "s3", "generate", "--bucket", "inbox", "--prefix", "incoming/", "--count", "3"); r.code != 0 {
		t.Fatalf("generate: %d %q %q", r.code, r.stdout, r.stderr)
	}
	testenv.Eventually(t, 30*time.Second, 100*time.Millisecond, "generated files archived", func() bool {
		out, err := awsc.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("inbox"), Prefix: aws.String("bak/incoming/generated-")})
		return err == nil && len(out.Contents) == 3
	})
	put("incoming/a.csv")
	testenv.Eventually(t, 30*time.Second, 100*time.Millisecond, "a.csv archived", func() bool { return exists("bak/incoming/a.csv") })

	// An object whose event S3 lost: the sweep finds it (one missed event).
	cloud.S3.SetEventFaults(s3lite.EventFaults{DropRate: 1})
	put("incoming/lost.csv")
	r = h.runWithin(60*time.Second, "-o", "json", "s3", "sweep", "--bucket", "inbox", "--prefix", "incoming/", "--older-than", "0s", "--wait")
	if r.code != 0 || !strings.Contains(r.stdout, `"missedEvents": 1`) {
		t.Fatalf("sweep: %d %q %q", r.code, r.stdout, r.stderr)
	}
	testenv.Eventually(t, 30*time.Second, 100*time.Millisecond, "lost.csv archived", func() bool { return exists("bak/incoming/lost.csv") })

	// process on an object with a lost event runs it; a second process of
	// the same version does not run it again.
	put("incoming/manual.csv")
	if r := h.runWithin(60*time.Second, "s3", "process", "--bucket", "inbox", "--key", "incoming/manual.csv", "--wait"); r.code != 0 {
		t.Fatalf("process: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if !exists("bak/incoming/manual.csv") || exists("incoming/manual.csv") {
		t.Fatal("manual.csv not archived")
	}
	if r := h.runWithin(30*time.Second, "s3", "process", "--bucket", "inbox", "--key", "incoming/manual.csv"); r.code != 3 ||
		!strings.Contains(r.stderr, "no such object") {
		t.Fatalf("process of an archived object: %d %q %q", r.code, r.stdout, r.stderr)
	}

	// unbind removes the notification setup-events added and keeps the
	// bucket's others.
	if _, err := setup.S3Events(ctx, awsc, setup.RestoreEvents("inbox", "")); err != nil {
		t.Fatal(err)
	}
	notificationIDs := func() []string {
		cur, err := awsc.S3.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String("inbox")})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, qc := range cur.QueueConfigurations {
			ids = append(ids, aws.ToString(qc.Id))
		}
		return ids
	}
	if ids := notificationIDs(); len(ids) != 2 {
		t.Fatalf("notifications before unbind: %v", ids)
	}
	if r := h.runWithin(30*time.Second, "s3", "unbind", "--bucket", "inbox", "--prefix", "incoming/"); r.code != 0 ||
		!strings.Contains(r.stdout, "removed  bucket notification inbox/vigil-objects-incoming") {
		t.Fatalf("unbind: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if ids := notificationIDs(); strings.Join(ids, ",") != "vigil-restore" {
		t.Fatalf("notifications after unbind: %v, want only vigil-restore", ids)
	}
	testenv.Eventually(t, 10*time.Second, 100*time.Millisecond, "binding gone", func() bool {
		r := h.runWithin(30*time.Second, "-o", "json", "s3", "bindings")
		return r.code == 0 && strings.TrimSpace(r.stdout) == "[]"
	})
	if r := h.runWithin(30*time.Second, "s3", "unbind", "--bucket", "inbox", "--prefix", "incoming/"); r.code != 3 || !strings.Contains(r.stderr, "no such binding") ||
		!strings.Contains(r.stdout, "absent   bucket notification inbox/vigil-objects-incoming") {
		t.Fatalf("unbind again: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if ids := notificationIDs(); strings.Join(ids, ",") != "vigil-restore" {
		t.Fatalf("notifications after a second unbind: %v", ids)
	}
}
