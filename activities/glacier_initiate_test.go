package activities_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"go.temporal.io/sdk/testsuite"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// TestInitiateJobAdoptsItsOwnJob: a retried InitiateJob (same workflow ID
// as JobDescription) finds the job the first attempt started instead of
// paying for a second retrieval; another workflow, another tier or another
// byte range gets a job of its own.
func TestInitiateJobAdoptsItsOwnJob(t *testing.T) {
	cloud, c := stacktest.Cloud(t, localcloud.Options{TierDelays: map[string]time.Duration{"Bulk": time.Hour}})
	if err := cloud.Glacier.CreateVault("v"); err != nil {
		t.Fatal(err)
	}
	archive, _, err := cloud.Glacier.PutArchive("v", bytes.NewReader(bytes.Repeat([]byte("archive "), 1<<18)), "a") // 2 MiB
	if err != nil {
		t.Fatal(err)
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	ga := &activities.Glacier{Client: c.Glacier}
	ga.Register(env)
	initiateAs := func(description, tier, byteRange string) string {
		t.Helper()
		v, err := env.ExecuteActivity(ga.InitiateJob, activities.InitiateJobInput{Job: flowdata.GlacierJob{AccountID: "-", Vault: "v"},
			ArchiveID: archive, Tier: tier, ByteRange: byteRange, Description: description})
		if err != nil {
			t.Fatalf("InitiateJob %s: %v", description, err)
		}
		var st flowdata.GlacierJobState
		if err := v.Get(&st); err != nil || st.JobID == "" {
			t.Fatalf("InitiateJob %s: %+v, %v", description, st, err)
		}
		return st.JobID
	}
	initiate := func(description string) string { return initiateAs(description, "Bulk", "") }
	first := initiate("glacier/v/" + archive)
	if again := initiate("glacier/v/" + archive); again != first {
		t.Errorf("retried InitiateJob started job %s, want the first attempt's %s", again, first)
	}
	if other := initiate("another-workflow"); other == first {
		t.Error("another workflow adopted this workflow's job")
	}
	// Same workflow, another request: a job of its own, each once.
	tier := initiateAs("glacier/v/"+archive, "Standard", "")
	ranged := initiateAs("glacier/v/"+archive, "Bulk", "0-1048575")
	if tier == first || ranged == first || tier == ranged {
		t.Errorf("jobs: Bulk %s, Standard %s, ranged Bulk %s; want three", first, tier, ranged)
	}
	if again := initiateAs("glacier/v/"+archive, "Bulk", "0-1048575"); again != ranged {
		t.Errorf("retried ranged InitiateJob started %s, want %s", again, ranged)
	}
	// The whole archive as a range is the full retrieval Glacier lists.
	if again := initiateAs("glacier/v/"+archive, "Bulk", ""); again != first {
		t.Errorf("full retrieval adopted %s, want %s", again, first)
	}
	jobs, err := c.Glacier.ListJobs(context.Background(), &glacier.ListJobsInput{AccountId: aws.String("-"), VaultName: aws.String("v")})
	if err != nil || len(jobs.JobList) != 4 {
		t.Errorf("vault has %d jobs (%v), want 4", len(jobs.JobList), err)
	}
}
