package activities_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/outbound"
	"github.com/vigilops/vigil/internal/secretenv"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// metadataName resolves to the instance metadata address through
// metadataClient, as a name under an attacker's control (DNS rebinding)
// would.
const metadataName = "metadata.test"

// metadataClient is the worker's refusing transport (outbound.Transport)
// behind a resolver stand-in: metadataName is 169.254.169.254.
func metadataClient() *http.Client {
	tr := outbound.Transport(false)
	inner := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return inner(ctx, network, strings.Replace(addr, metadataName, "169.254.169.254", 1))
	}
	return &http.Client{Transport: tr}
}

// wantRefused fails the test unless err is the non-retryable
// LinkLocalAddressRefused naming the flag that lifts it, without the
// URL's credential.
func wantRefused(t *testing.T, what string, err error) {
	t.Helper()
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != outbound.ErrTypeRefused || !ae.NonRetryable() {
		t.Errorf("%s: %v, want the non-retryable %s", what, err, outbound.ErrTypeRefused)
		return
	}
	if !strings.Contains(err.Error(), outbound.AllowFlag) || strings.Contains(err.Error(), "m3ta-s3cr3t") {
		t.Errorf("%s: %q, want it to name %s and not the URL's credential", what, err, outbound.AllowFlag)
	}
}

// linkLocalTargets are the two ways a URL reaches the metadata address:
// the address itself, through the worker's default client (nil), and a
// name resolving to it, through metadataClient.
var linkLocalTargets = []struct {
	name   string
	host   string
	client func() *http.Client
}{
	{"address", "169.254.169.254", func() *http.Client { return nil }},
	{"name resolving to it", metadataName, metadataClient},
}

// TestProcessorAndSlackRefuseLinkLocal: an http processor's endpoint and
// a Slack webhook at the metadata address are refused at dial time.
func TestProcessorAndSlackRefuseLinkLocal(t *testing.T) {
	env := secretenv.New(func(k string) string { return "" }, secretenv.Policy{})
	for _, tc := range linkLocalTargets {
		t.Run(tc.name, func(t *testing.T) {
			var suite testsuite.WorkflowTestSuite
			aenv := suite.NewTestActivityEnvironment()
			presign := func(context.Context, string, string, string) (string, error) {
				return "https://s3.example/b/k?X-Amz-Signature=x", nil
			}
			(&activities.S3Object{HTTP: tc.client(), Env: env, Presign: presign}).Register(aenv)
			var so *activities.S3Object
			_, err := aenv.ExecuteActivity(so.ProcessObject, activities.ProcessObjectInput{
				Object: flowdata.S3ObjectRef{Bucket: "inbox", Key: "in/a.csv", ETag: "e", Size: 1},
				Processor: flowdata.Processor{Kind: flowdata.ProcessorHTTP, HTTP: &flowdata.HTTPProcessor{
					URL: "http://" + tc.host + "/latest/meta-data/?token=m3ta-s3cr3t", Body: flowdata.HTTPBodyPresignedURL}}})
			wantRefused(t, "http processor", err)

			hooks := secretenv.New(func(k string) string {
				if k == activities.DefaultSlackWebhookEnv {
					return "http://" + tc.host + "/hooks/m3ta-s3cr3t"
				}
				return ""
			}, secretenv.Policy{})
			senv := suite.NewTestActivityEnvironment()
			(&activities.Slack{Client: tc.client(), Env: hooks}).Register(senv)
			var sl *activities.Slack
			_, err = senv.ExecuteActivity(sl.Notify, activities.SlackMessage{Text: "x"})
			wantRefused(t, "slack webhook", err)
		})
	}
}

// TestBackupRefusesLinkLocal: a backup's http source and a restore's
// http target at the metadata address are refused at dial time.
func TestBackupRefusesLinkLocal(t *testing.T) {
	_, c := stacktest.Cloud(t, localcloud.Options{})
	ctx := context.Background()
	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(backupBucket)}); err != nil {
		t.Fatal(err)
	}
	data := []byte("backed up")
	if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(backupBucket), Key: aws.String("b/obj"), Body: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	obj := activities.ObjectRef{Bucket: backupBucket, Key: "b/obj", Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
	for _, tc := range linkLocalTargets {
		t.Run(tc.name, func(t *testing.T) {
			var suite testsuite.WorkflowTestSuite
			aenv := suite.NewTestActivityEnvironment()
			(&activities.Backup{S3: c.S3, HTTP: tc.client(), Env: secretenv.New(func(string) string { return "" }, secretenv.Policy{})}).Register(aenv)
			_, err := aenv.ExecuteActivity(activities.BackupUploadName, activities.BackupUploadInput{
				Source: "http://" + tc.host + "/latest/meta-data/?sig=m3ta-s3cr3t", Bucket: backupBucket, Key: "b/new"})
			wantRefused(t, "backup http source", err)
			_, err = aenv.ExecuteActivity(activities.RestoreStreamName, activities.RestoreStreamInput{Object: obj,
				To: "http://" + tc.host + "/latest/?X-Amz-Signature=m3ta-s3cr3t"})
			wantRefused(t, "restore http target", err)
		})
	}
}
