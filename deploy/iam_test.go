package deploy_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// iamPolicies maps each policy in deploy/iam to the source files whose AWS
// calls it must allow: the flow's activities (or the router, or the setup
// commands). Entries are glob patterns, so a file split off a flow's
// activities stays covered; test files are never read. A new call in those files without its action in the policy,
// or an action no call needs, fails the test.
var iamPolicies = map[string][]string{
	"worker-router.json":    {"internal/router/poll.go", "internal/router/process.go", "internal/workerapp/queues.go", "internal/workerapp/run.go", "activities/selfcheck.go"},
	"glacier-retrieve.json": {"activities/glacier*.go", "activities/sinks*.go"},
	"s3-restore.json":       {"activities/s3restore*.go", "activities/s3deliver*.go", "activities/s3copy*.go", "activities/sinks*.go"},
	"batch.json":            {"activities/s3.go", "activities/sqs.go"},
	"s3-reprocess.json":     {"activities/s3object*.go", "activities/s3copy*.go", "activities/s3sweep*.go"},
	"backup.json":           {"activities/backup*.go"},
	"setup.json":            {"internal/setup/glacier.go", "internal/setup/s3events.go", "internal/setup/setup.go", "starter/glacier.go", "starter/s3.go", "starter/aws.go"},
}

// devOnlyCalls are SDK calls made only by `worker --dev` (queues created
// on the local cloud), which production policies do not grant.
var devOnlyCalls = map[string]bool{"sqs.CreateQueue@internal/workerapp/run.go": true}

// iamActions maps SDK operations to the IAM actions that authorize them.
var iamActions = map[string][]string{
	"s3.CreateMultipartUpload":              {"s3:PutObject"},
	"s3.UploadPart":                         {"s3:PutObject"},
	"s3.CompleteMultipartUpload":            {"s3:PutObject"},
	"s3.AbortMultipartUpload":               {"s3:AbortMultipartUpload"},
	"s3.HeadObject":                         {"s3:GetObject"},
	"s3.ListMultipartUploads":               {"s3:ListBucketMultipartUploads"},
	"s3.UploadPartCopy":                     {"s3:GetObject", "s3:PutObject"},
	"s3.ListObjectsV2":                      {"s3:ListBucket"},
	"s3.CopyObject":                         {"s3:GetObject", "s3:PutObject"},
	"s3.HeadBucket":                         {"s3:ListBucket"},
	"s3.ListBuckets":                        {"s3:ListAllMyBuckets"},
	"s3.GetBucketNotificationConfiguration": {"s3:GetBucketNotification"},
	"s3.PutBucketNotificationConfiguration": {"s3:PutBucketNotification"},
	// manager.NewUploader: PutObject or the multipart calls.
	"manager.NewUploader": {"s3:PutObject", "s3:AbortMultipartUpload"},
}

var sdkCall = regexp.MustCompile(`&(glacier|s3|sqs|sns)\.([A-Z][A-Za-z0-9]+)Input\b|\b(manager)\.(NewUploader)\(`)

func neededActions(t *testing.T, files []string) []string {
	t.Helper()
	set := map[string]bool{}
	for _, f := range expandSources(t, files) {
		src, err := os.ReadFile(filepath.Join(repoRoot, f))
		require.NoError(t, err)
		for _, m := range sdkCall.FindAllStringSubmatch(string(src), -1) {
			svc, op := m[1], m[2]
			if svc == "" {
				svc, op = m[3], m[4]
			}
			if devOnlyCalls[svc+"."+op+"@"+f] {
				continue
			}
			actions, ok := iamActions[svc+"."+op]
			if !ok {
				actions = []string{svc + ":" + op}
			}
			for _, a := range actions {
				set[a] = true
			}
		}
	}
	var out []string
	for a := range set {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// expandSources resolves the glob patterns of iamPolicies to the non-test
// Go files they name; a pattern that matches nothing fails the test.
func expandSources(t *testing.T, patterns []string) []string {
	t.Helper()
	var out []string
	for _, p := range patterns {
		matches, err := filepath.Glob(filepath.Join(repoRoot, p))
		require.NoError(t, err)
		n := 0
		for _, m := range matches {
			if strings.HasSuffix(m, "_test.go") {
				continue
			}
			rel, err := filepath.Rel(repoRoot, m)
			require.NoError(t, err)
			out = append(out, filepath.ToSlash(rel))
			n++
		}
		require.NotZero(t, n, "pattern %s matches no source file", p)
	}
	return out
}

type policyDoc struct {
	Version   string
	Statement []struct {
		Effect   string
		Action   []string
		Resource any
	}
}

func TestIAMPoliciesMatchCalls(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repoRoot, "deploy", "iam", "*.json"))
	require.NoError(t, err)
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	for name := range iamPolicies {
		require.Contains(t, names, name)
	}
	require.Len(t, names, len(iamPolicies), "every policy file is checked")
	for name, srcs := range iamPolicies {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "iam", name))
			require.NoError(t, err)
			var doc policyDoc
			require.NoError(t, json.Unmarshal(b, &doc))
			require.Equal(t, "2012-10-17", doc.Version)
			var granted []string
			for _, st := range doc.Statement {
				require.Equal(t, "Allow", st.Effect)
				require.NotNil(t, st.Resource)
				granted = append(granted, st.Action...)
			}
			sort.Strings(granted)
			granted = slices.Compact(granted)
			require.Equal(t, neededActions(t, srcs), granted, "%s grants exactly the actions the calls in %v need", name, srcs)
		})
	}
}
