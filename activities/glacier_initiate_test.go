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
// paying for a second retrieval; another workflow gets a job of its own.
func TestInitiateJobAdoptsItsOwnJob(t *testing.T) {
	cloud, c := stacktest.Cloud(t, localcloud.Options{TierDelays: map[string]time.Duration{"Bulk": time.Hour}})
	if err := cloud.Glacier.CreateVault("v"); err != nil {
		t.Fatal(err)
	}
	archive, _, err := cloud.Glacier.PutArchive("v", bytes.NewReader([]byte("archive bytes")), "a")
	if err != nil {
		t.Fatal(err)
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	ga := &activities.Glacier{Client: c.Glacier}
	ga.Register(env)
	initiate := func(description string) string {
		t.Helper()
		v, err := env.ExecuteActivity(ga.InitiateJob, activities.InitiateJobInput{Job: flowdata.GlacierJob{AccountID: "-", Vault: "v"},
			ArchiveID: archive, Tier: "Bulk", Description: description})
		if err != nil {
			t.Fatalf("InitiateJob %s: %v", description, err)
		}
		var st flowdata.GlacierJobState
		if err := v.Get(&st); err != nil || st.JobID == "" {
			t.Fatalf("InitiateJob %s: %+v, %v", description, st, err)
		}
		return st.JobID
	}
	first := initiate("glacier/v/" + archive)
	if again := initiate("glacier/v/" + archive); again != first {
		t.Errorf("retried InitiateJob started job %s, want the first attempt's %s", again, first)
	}
	if other := initiate("another-workflow"); other == first {
		t.Error("another workflow adopted this workflow's job")
	}
	jobs, err := c.Glacier.ListJobs(context.Background(), &glacier.ListJobsInput{AccountId: aws.String("-"), VaultName: aws.String("v")})
	if err != nil || len(jobs.JobList) != 2 {
		t.Errorf("vault has %d jobs (%v), want 2", len(jobs.JobList), err)
	}
}
