package activities_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	gtypes "github.com/aws/aws-sdk-go-v2/service/glacier/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/internal/stacktest"
	"github.com/vigilops/vigil/internal/treehash"
	"github.com/vigilops/vigil/workflows/flowdata"
)

const mib = treehash.ChunkSize

// retrievedArchive is a completed archive-retrieval job in the local
// Glacier, its data, and a file destination prepared as the workflow does.
type retrievedArchive struct {
	cloud    *localcloud.Cloud
	clients  *awsconf.Clients
	data     []byte
	job      flowdata.GlacierJob
	prepared activities.Prepared
}

// retrieveArchive stores size pseudo-random bytes as an archive, retrieves
// it (waiting for the job's SNS notification on an SQS queue), and
// prepares the file destination with PrepareDestination.
func retrieveArchive(t *testing.T, size int) *retrievedArchive {
	t.Helper()
	cloud, c := stacktest.Cloud(t, localcloud.Options{TierDelays: map[string]time.Duration{"Expedited": 0}})
	ctx := context.Background()
	a := &retrievedArchive{cloud: cloud, clients: c, data: make([]byte, size)}
	rng := rand.New(rand.NewPCG(7, 11))
	for i := range a.data {
		a.data[i] = byte(rng.Uint32())
	}
	if err := cloud.Glacier.CreateVault("backups"); err != nil {
		t.Fatal(err)
	}
	archiveID, _, err := cloud.Glacier.PutArchive("backups", bytes.NewReader(a.data), "db dump")
	if err != nil {
		t.Fatal(err)
	}
	q, err := c.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("glacier-done")})
	if err != nil {
		t.Fatal(err)
	}
	topic, err := cloud.SNS.CreateTopic("glacier-jobs")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cloud.SNS.Subscribe(topic, cloud.SQS.QueueARN("glacier-done"), true); err != nil {
		t.Fatal(err)
	}
	job, err := c.Glacier.InitiateJob(ctx, &glacier.InitiateJobInput{AccountId: aws.String("-"), VaultName: aws.String("backups"),
		JobParameters: &gtypes.JobParameters{Type: aws.String("archive-retrieval"), ArchiveId: aws.String(archiveID),
			Tier: aws.String("Expedited"), SNSTopic: aws.String(topic)}})
	if err != nil {
		t.Fatal(err)
	}
	a.job = flowdata.GlacierJob{AccountID: "-", Vault: "backups", JobID: aws.ToString(job.JobId)}
	msgs, err := c.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 10})
	if err != nil || len(msgs.Messages) != 1 || !strings.Contains(aws.ToString(msgs.Messages[0].Body), a.job.JobID) {
		t.Fatalf("job completion notification: %+v, %v", msgs, err)
	}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	(&activities.Sinks{S3: c.S3}).Register(env)
	var sinks *activities.Sinks
	dest := filepath.Join(t.TempDir(), "restored", "dump.bin")
	v, err := env.ExecuteActivity(sinks.PrepareDestination, activities.PrepareInput{Dest: "file://" + dest, Size: int64(size)})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Get(&a.prepared); err != nil {
		t.Fatal(err)
	}
	return a
}

func (a *retrievedArchive) partial() string { return a.prepared.Dest.Path + activities.PartialSuffix }

// env returns an activity environment for DownloadRange, resuming from
// heartbeat details when prog is not nil, and the heartbeats it records.
func (a *retrievedArchive) env(prog *activities.RangeProgress) (*testsuite.TestActivityEnvironment, *[]activities.RangeProgress) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	(&activities.Glacier{Client: a.clients.Glacier, Sinks: &activities.Sinks{S3: a.clients.S3}}).Register(env)
	if prog != nil {
		env.SetHeartbeatDetails(*prog)
	}
	var beats []activities.RangeProgress
	env.SetOnActivityHeartbeatListener(func(_ *activity.Info, d converter.EncodedValues) {
		var p activities.RangeProgress
		if err := d.Get(&p); err == nil {
			beats = append(beats, p)
		}
	})
	return env, &beats
}

func (a *retrievedArchive) download(env *testsuite.TestActivityEnvironment, index int, r flowdata.ByteRange) (activities.RangePart, error) {
	var g *activities.Glacier
	v, err := env.ExecuteActivity(g.DownloadRange, activities.DownloadRangeInput{Job: a.job, Index: index, Range: r, Prepared: a.prepared})
	var part activities.RangePart
	if err == nil {
		err = v.Get(&part)
	}
	return part, err
}

// leaves are the hex leaf hashes of b's 1 MiB chunks, as heartbeats carry
// them.
func leaves(b []byte) []string {
	var out []string
	for off := 0; off < len(b); off += mib {
		out = append(out, treehash.Of(b[off:min(off+mib, len(b))]))
	}
	return out
}

func callRange(r flowdata.ByteRange, done int64) string {
	return fmt.Sprintf("%d-%d", r.Start+done, r.End)
}

// TestDownloadRangeResumesIntactPrefix: the partial file holds the first
// 2 MiB of the range, written by an attempt whose heartbeat said so; the
// retry checks them, fetches only the rest, and reports the range's tree
// hash.
func TestDownloadRangeResumesIntactPrefix(t *testing.T) {
	a := retrieveArchive(t, 12*mib+4321)
	r := flowdata.ByteRange{Start: 4 * mib, End: 8*mib - 1}
	const done = 2 * mib
	f, err := os.OpenFile(a.partial(), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(a.data[r.Start:r.Start+done], r.Start); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	whole := treehash.Of(a.data[r.Start : r.End+1])
	env, _ := a.env(&activities.RangeProgress{Done: done, Leaves: leaves(a.data[r.Start : r.Start+done]), Want: whole})
	part, err := a.download(env, 1, r)
	if err != nil {
		t.Fatal(err)
	}
	if calls := a.cloud.Glacier.GetJobOutputCalls(a.job.JobID); !slices.Equal(calls, []string{callRange(r, done)}) {
		t.Errorf("GetJobOutput ranges %q, want only the remainder %s", calls, callRange(r, done))
	}
	want := treehash.Of(a.data[r.Start : r.End+1])
	if part.Index != 1 || part.Bytes != r.Len() || part.TreeHash != want {
		t.Errorf("part %+v, want index 1, %d bytes, tree hash %s", part, r.Len(), want)
	}
	got, err := os.ReadFile(a.partial())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[r.Start:r.End+1], a.data[r.Start:r.End+1]) {
		t.Error("the range's bytes in the partial file differ from the archive's")
	}
	if !bytes.Equal(got[:r.Start], make([]byte, r.Start)) || !bytes.Equal(got[r.End+1:], make([]byte, len(got)-int(r.End+1))) {
		t.Error("bytes outside the range were written")
	}
	// A heartbeat that already covers the whole range: nothing is fetched.
	before := len(a.cloud.Glacier.GetJobOutputCalls(a.job.JobID))
	env, _ = a.env(&activities.RangeProgress{Done: r.Len(), Leaves: leaves(a.data[r.Start : r.End+1]), Want: whole})
	if part, err := a.download(env, 1, r); err != nil || part.TreeHash != whole || part.Bytes != r.Len() {
		t.Errorf("resume of a complete range: %+v, %v", part, err)
	}
	if n := len(a.cloud.Glacier.GetJobOutputCalls(a.job.JobID)); n != before {
		t.Errorf("a complete range was requested again (%d calls, want %d)", n, before)
	}
	// The resumed part is checked against the tree hash Glacier sent the
	// first attempt, kept in the heartbeat.
	env, _ = a.env(&activities.RangeProgress{Done: done, Leaves: leaves(a.data[r.Start : r.Start+done]), Want: strings.Repeat("0", 64)})
	if _, err := a.download(env, 1, r); err == nil || !strings.Contains(err.Error(), "tree hash mismatch") {
		t.Errorf("resume against a different Glacier tree hash: %v, want a mismatch", err)
	}
}

// TestDownloadRangeLostPrefix: the heartbeat claims 2 MiB the file does not
// hold (zeros, as after an OS crash before the data reached the disk). The
// attempt fails without reporting the range and resets the progress; a
// fresh attempt downloads the whole range.
func TestDownloadRangeLostPrefix(t *testing.T) {
	a := retrieveArchive(t, 12*mib+4321)
	r := flowdata.ByteRange{Start: 8 * mib, End: 12*mib + 4320} // the last range, not whole MiB
	const done = 2 * mib
	env, beats := a.env(&activities.RangeProgress{Done: done, Leaves: leaves(a.data[r.Start : r.Start+done])})
	part, err := a.download(env, 2, r)
	if err == nil || !strings.Contains(err.Error(), "lost bytes") {
		t.Fatalf("DownloadRange: %+v, %v; want an error about lost bytes", part, err)
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.NonRetryable() {
		t.Errorf("lost prefix: non-retryable error %v; the next attempt must be able to start over", err)
	}
	if part != (activities.RangePart{}) {
		t.Errorf("lost prefix: part %+v reported", part)
	}
	if len(*beats) == 0 || (*beats)[len(*beats)-1].Done != 0 || len((*beats)[len(*beats)-1].Leaves) != 0 {
		t.Errorf("lost prefix: heartbeats %+v, want the last to reset progress", *beats)
	}
	got, err := os.ReadFile(a.partial())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, make([]byte, len(a.data))) {
		t.Error("lost prefix: the failed attempt wrote to the file")
	}

	env, _ = a.env(nil)
	part, err = a.download(env, 2, r)
	if err != nil {
		t.Fatal(err)
	}
	want := treehash.Of(a.data[r.Start : r.End+1])
	if part.Index != 2 || part.Bytes != r.Len() || part.TreeHash != want {
		t.Errorf("fresh attempt: part %+v, want index 2, %d bytes, tree hash %s", part, r.Len(), want)
	}
	if calls := a.cloud.Glacier.GetJobOutputCalls(a.job.JobID); len(calls) == 0 || calls[len(calls)-1] != callRange(r, 0) {
		t.Errorf("fresh attempt: GetJobOutput ranges %q, want the whole range %s last", calls, callRange(r, 0))
	}
	if got, err = os.ReadFile(a.partial()); err != nil || !bytes.Equal(got[r.Start:], a.data[r.Start:]) {
		t.Errorf("fresh attempt: the range's bytes in the file differ from the archive's (%v)", err)
	}
}
