package activities_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/testsuite"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// TestExecDownloadReplacedRefused: an exec processor's local copy has the
// object's size, is synced and has an identity token; a command never runs
// on a copy that was cut short, re-created (a replaced disk: same name,
// another file) or lost: it fails with the non-retryable
// DestinationReplaced, so the workflow downloads again instead of
// processing wrong bytes or retrying for ever.
func TestExecDownloadReplacedRefused(t *testing.T) {
	_, c := stacktest.Cloud(t, localcloud.Options{})
	ctx := context.Background()
	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("inbox")}); err != nil {
		t.Fatal(err)
	}
	body := "0123456789abcdef"
	obj := flowdata.S3ObjectRef{Bucket: "inbox", Key: "incoming/data.bin", ETag: putObject(t, c.S3, "inbox", "incoming/data.bin", body)}
	a := &activities.S3Object{Client: c.S3, TempDir: t.TempDir()}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	a.Register(env)
	download := func() activities.DownloadResult {
		t.Helper()
		v, err := env.ExecuteActivity(activities.DownloadObjectName, activities.DownloadInput{Object: obj})
		if err != nil {
			t.Fatal(err)
		}
		var dl activities.DownloadResult
		if err := v.Get(&dl); err != nil {
			t.Fatal(err)
		}
		if dl.Bytes != int64(len(body)) || dl.Token == "" {
			t.Fatalf("download %+v: want %d bytes and a token", dl, len(body))
		}
		return dl
	}
	run := func(dl activities.DownloadResult) error {
		_, err := env.ExecuteActivity(activities.RunObjectCommandName, activities.RunObjectCommandInput{Object: obj, Path: dl.Path,
			Size: dl.Bytes, Token: dl.Token,
			Exec: flowdata.ExecJob{Command: "sh", Args: []string{"-c", `test "$(cat "$VIGIL_PATH")" = 0123456789abcdef`}, Timeout: flowdata.Duration(time.Minute)}})
		return err
	}
	for name, damage := range map[string]func(path string) error{
		"truncated": func(p string) error { return os.Truncate(p, 4) },
		"zeroed and re-created": func(p string) error {
			// A fresh disk: the file and its token are gone, a file of the
			// same name and size appears.
			if err := os.RemoveAll(p + activities.IdentitySuffix); err != nil {
				return err
			}
			return os.WriteFile(p, make([]byte, len(body)), 0o600)
		},
		"gone": os.Remove,
	} {
		t.Run(name, func(t *testing.T) {
			dl := download()
			if err := damage(dl.Path); err != nil {
				t.Fatal(err)
			}
			if err := run(dl); !activities.IsDestinationReplaced(err) {
				t.Fatalf("command on a %s copy: %v, want DestinationReplaced", name, err)
			}
		})
	}
	dl := download()
	if err := run(dl); err != nil {
		t.Fatalf("command on an intact copy: %v", err)
	}
	if _, err := env.ExecuteActivity(activities.RemoveDownloadName, dl.Path); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dl.Path, dl.Path + activities.IdentitySuffix} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s after RemoveDownload: %v", p, err)
		}
	}
}
