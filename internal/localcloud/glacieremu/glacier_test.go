package glacieremu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/glacier/types"

	"github.com/vigilops/vigil/internal/treehash"
)

func TestVaults(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	for _, v := range []string{"b-vault", "a-vault", "c.vault_1"} {
		if _, err := e.g.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String(v)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.g.CreateVault(ctx, &glacier.CreateVaultInput{VaultName: aws.String("bad/name")}); err == nil {
		t.Error("vault name with '/' accepted")
	}
	d, err := e.g.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: aws.String("a-vault")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(d.VaultARN) != "arn:aws:glacier:us-east-1:000000000000:vaults/a-vault" || d.NumberOfArchives != 0 || aws.ToString(d.CreationDate) == "" {
		t.Errorf("DescribeVault = %+v", d)
	}
	var names []string
	p := glacier.NewListVaultsPaginator(e.g, &glacier.ListVaultsInput{Limit: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page.VaultList {
			names = append(names, aws.ToString(v.VaultName))
		}
	}
	if !slices.Equal(names, []string{"a-vault", "b-vault", "c.vault_1"}) {
		t.Errorf("ListVaults paged = %v", names)
	}
	if _, err := e.g.DeleteVault(ctx, &glacier.DeleteVaultInput{VaultName: aws.String("b-vault")}); err != nil {
		t.Fatal(err)
	}
	var nf *types.ResourceNotFoundException
	if _, err := e.g.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: aws.String("b-vault")}); !errors.As(err, &nf) {
		t.Errorf("deleted vault: %v, want ResourceNotFoundException", err)
	}
	if _, err := e.g.InitiateJob(ctx, &glacier.InitiateJobInput{VaultName: aws.String("nope"),
		JobParameters: &types.JobParameters{Type: aws.String("inventory-retrieval")}}); !errors.As(err, &nf) {
		t.Errorf("job on unknown vault: %v, want ResourceNotFoundException", err)
	}
}

func TestUploads(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	if err := e.svc.CreateVault("v"); err != nil {
		t.Fatal(err)
	}
	data := randomBytes(1, 3<<20+12345)
	up, err := e.g.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: aws.String("v"), Body: bytes.NewReader(data),
		ArchiveDescription: aws.String("single")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(up.Checksum) != treehash.Of(data) || len(aws.ToString(up.ArchiveId)) != 138 {
		t.Errorf("UploadArchive = checksum %s id %q, want %s", aws.ToString(up.Checksum), aws.ToString(up.ArchiveId), treehash.Of(data))
	}
	_, err = e.g.UploadArchive(ctx, &glacier.UploadArchiveInput{VaultName: aws.String("v"), Body: bytes.NewReader(data),
		Checksum: aws.String(strings.Repeat("0", 64))})
	if errCode(err) != "InvalidParameterValueException" {
		t.Errorf("wrong tree hash: %v, want InvalidParameterValueException", err)
	}

	// Multipart: 1 MiB parts, the last one short, uploaded out of order.
	const part = 1 << 20
	init, err := e.g.InitiateMultipartUpload(ctx, &glacier.InitiateMultipartUploadInput{VaultName: aws.String("v"),
		PartSize: aws.String(fmt.Sprint(part)), ArchiveDescription: aws.String("multi")})
	if err != nil {
		t.Fatal(err)
	}
	for _, start := range []int{2 * part, 0, 3 * part, part} {
		end := min(start+part, len(data))
		if _, err := e.g.UploadMultipartPart(ctx, &glacier.UploadMultipartPartInput{VaultName: aws.String("v"), UploadId: init.UploadId,
			Range: aws.String(fmt.Sprintf("bytes %d-%d/*", start, end-1)), Body: bytes.NewReader(data[start:end])}); err != nil {
			t.Fatalf("part at %d: %v", start, err)
		}
	}
	done, err := e.g.CompleteMultipartUpload(ctx, &glacier.CompleteMultipartUploadInput{VaultName: aws.String("v"), UploadId: init.UploadId,
		ArchiveSize: aws.String(fmt.Sprint(len(data))), Checksum: aws.String(treehash.Of(data))})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(done.Checksum) != treehash.Of(data) {
		t.Errorf("multipart checksum %s", aws.ToString(done.Checksum))
	}
	d, err := e.g.DescribeVault(ctx, &glacier.DescribeVaultInput{VaultName: aws.String("v")})
	if err != nil || d.NumberOfArchives != 2 || d.SizeInBytes != 2*int64(len(data)) {
		t.Errorf("vault after uploads: %+v, %v", d, err)
	}
	if _, err := e.g.DeleteVault(ctx, &glacier.DeleteVaultInput{VaultName: aws.String("v")}); errCode(err) != "InvalidParameterValueException" {
		t.Errorf("deleting a non-empty vault: %v", err)
	}
}

// sampleKeys are the keys of Glacier's completion message in the sample.
func sampleKeys(t *testing.T) []string {
	b, err := os.ReadFile("testdata/glacier-job-completed.sns.json")
	if err != nil {
		t.Fatal(err)
	}
	var env struct{ Message string }
	var msg map[string]any
	if err := json.Unmarshal(b, &env); err != nil || json.Unmarshal([]byte(env.Message), &msg) != nil {
		t.Fatalf("sample: %v", err)
	}
	return sortedKeys(msg)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestArchiveRetrieval(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	if err := e.svc.CreateVault("v"); err != nil {
		t.Fatal(err)
	}
	data := randomBytes(2, 5<<20+100)
	id, hash, err := e.svc.PutArchive("v", bytes.NewReader(data), "five and a bit")
	if err != nil || hash != treehash.Of(data) {
		t.Fatalf("PutArchive: %s %v", hash, err)
	}
	topic, queue := e.notified(t, "vault-events")
	if _, err := e.g.SetVaultNotifications(ctx, &glacier.SetVaultNotificationsInput{VaultName: aws.String("v"),
		VaultNotificationConfig: &types.VaultNotificationConfig{SNSTopic: aws.String(topic), Events: []string{"ArchiveRetrievalCompleted"}}}); err != nil {
		t.Fatal(err)
	}
	got, err := e.g.GetVaultNotifications(ctx, &glacier.GetVaultNotificationsInput{VaultName: aws.String("v")})
	if err != nil || aws.ToString(got.VaultNotificationConfig.SNSTopic) != topic {
		t.Fatalf("GetVaultNotifications = %+v, %v", got, err)
	}

	job, err := e.g.InitiateJob(ctx, &glacier.InitiateJobInput{VaultName: aws.String("v"), JobParameters: &types.JobParameters{
		Type: aws.String("archive-retrieval"), ArchiveId: aws.String(id), Description: aws.String("glacier/v/" + id), Tier: aws.String("Bulk")}})
	if err != nil {
		t.Fatal(err)
	}
	jobID := aws.ToString(job.JobId)
	if _, err := e.g.GetJobOutput(ctx, &glacier.GetJobOutputInput{VaultName: aws.String("v"), JobId: job.JobId}); errCode(err) != "InvalidParameterValueException" && !e.done(jobID) {
		t.Errorf("output of a running job: %v", err)
	}
	msg := e.receive(t, queue)
	if keys := sortedKeys(msg); !slices.Equal(keys, sampleKeys(t)) {
		t.Errorf("notification keys %v, want the sample's %v", keys, sampleKeys(t))
	}
	if msg["JobId"] != jobID || msg["JobDescription"] != "glacier/v/"+id || msg["StatusCode"] != "Succeeded" || msg["SHA256TreeHash"] != hash ||
		msg["Completed"] != true || msg["RetrievalByteRange"] != fmt.Sprintf("0-%d", len(data)-1) || msg["InventorySizeInBytes"] != nil {
		t.Errorf("notification = %v", msg)
	}
	d := e.waitDone(t, "v", jobID)
	if d.StatusCode != types.StatusCodeSucceeded || aws.ToString(d.SHA256TreeHash) != hash || aws.ToInt64(d.ArchiveSizeInBytes) != int64(len(data)) ||
		d.Action != types.ActionCodeArchiveRetrieval || aws.ToString(d.Tier) != "Bulk" {
		t.Errorf("DescribeJob = %+v", d)
	}

	cases := []struct {
		rng      string
		from, to int
		checksum bool
	}{
		{"", 0, len(data), true},
		{"bytes=0-2097151", 0, 2 << 20, true},               // two chunks, aligned
		{"bytes=4194304-5242979", 4 << 20, len(data), true}, // the tail subtree
		{"bytes=1048576-3145727", 1 << 20, 3 << 20, false},  // two chunks, not a subtree
		{"bytes=10-99", 10, 100, false},
	}
	for _, c := range cases {
		out, err := e.g.GetJobOutput(ctx, &glacier.GetJobOutputInput{VaultName: aws.String("v"), JobId: job.JobId, Range: optional(c.rng)})
		if err != nil {
			t.Fatalf("range %q: %v", c.rng, err)
		}
		b := bodyOf(t, out)
		if !bytes.Equal(b, data[c.from:c.to]) {
			t.Errorf("range %q: %d bytes, not the archive's", c.rng, len(b))
		}
		if want := treehash.Of(b); c.checksum != (aws.ToString(out.Checksum) == want) || (!c.checksum && out.Checksum != nil) {
			t.Errorf("range %q: checksum %q, want present=%v", c.rng, aws.ToString(out.Checksum), c.checksum)
		}
		if c.rng != "" && (out.Status != 206 || aws.ToString(out.ContentRange) == "") {
			t.Errorf("range %q: status %d content-range %q", c.rng, out.Status, aws.ToString(out.ContentRange))
		}
	}
	if calls := e.svc.GetJobOutputCalls(jobID); !slices.Equal(calls, []string{"", "0-2097151", "4194304-5242979", "1048576-3145727", "10-99"}) {
		t.Errorf("GetJobOutputCalls = %q", calls)
	}

	// A byte-range retrieval: its output is the range.
	rj, err := e.g.InitiateJob(ctx, &glacier.InitiateJobInput{VaultName: aws.String("v"), JobParameters: &types.JobParameters{
		Type: aws.String("archive-retrieval"), ArchiveId: aws.String(id), RetrievalByteRange: aws.String("2097152-4194303"), Tier: aws.String("Expedited")}})
	if err != nil {
		t.Fatal(err)
	}
	e.receive(t, queue)
	rd := e.waitDone(t, "v", aws.ToString(rj.JobId))
	out, err := e.g.GetJobOutput(ctx, &glacier.GetJobOutputInput{VaultName: aws.String("v"), JobId: rj.JobId})
	if err != nil {
		t.Fatal(err)
	}
	if b := bodyOf(t, out); !bytes.Equal(b, data[2<<20:4<<20]) || aws.ToString(rd.SHA256TreeHash) != treehash.Of(b) {
		t.Errorf("range retrieval: %d bytes, job tree hash %s", len(b), aws.ToString(rd.SHA256TreeHash))
	}
	_, err = e.g.InitiateJob(ctx, &glacier.InitiateJobInput{VaultName: aws.String("v"), JobParameters: &types.JobParameters{
		Type: aws.String("archive-retrieval"), ArchiveId: aws.String(id), RetrievalByteRange: aws.String("1-1048575")}})
	if errCode(err) != "InvalidParameterValueException" {
		t.Errorf("unaligned byte range: %v", err)
	}
	var nf *types.ResourceNotFoundException
	_, err = e.g.InitiateJob(ctx, &glacier.InitiateJobInput{VaultName: aws.String("v"), JobParameters: &types.JobParameters{
		Type: aws.String("archive-retrieval"), ArchiveId: aws.String("no-such-archive")}})
	if !errors.As(err, &nf) {
		t.Errorf("unknown archive: %v", err)
	}
	if _, err := e.g.DescribeJob(ctx, &glacier.DescribeJobInput{VaultName: aws.String("v"), JobId: aws.String("nope")}); !errors.As(err, &nf) {
		t.Errorf("unknown job: %v", err)
	}
	if _, err := e.g.DeleteVaultNotifications(ctx, &glacier.DeleteVaultNotificationsInput{VaultName: aws.String("v")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.g.GetVaultNotifications(ctx, &glacier.GetVaultNotificationsInput{VaultName: aws.String("v")}); !errors.As(err, &nf) {
		t.Errorf("notifications after delete: %v, want ResourceNotFoundException", err)
	}
}

// done reports whether a job already completed (the tiny tier delays can
// beat the first request).
func (e *env) done(jobID string) bool {
	e.svc.mu.Lock()
	defer e.svc.mu.Unlock()
	return e.svc.st.Jobs[jobID].Desc.Completed
}

func TestInventoryAndListJobs(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	if err := e.svc.CreateVault("inv"); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 3 {
		id, _, err := e.svc.PutArchive("inv", bytes.NewReader(randomBytes(uint64(i), 1000+i)), fmt.Sprintf("archive %d", i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	topic, queue := e.notified(t, "inv-events")
	var jobs []string
	for _, format := range []string{"JSON", "CSV"} {
		j, err := e.g.InitiateJob(ctx, &glacier.InitiateJobInput{VaultName: aws.String("inv"), JobParameters: &types.JobParameters{
			Type: aws.String("inventory-retrieval"), Format: aws.String(format), SNSTopic: aws.String(topic)}})
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, aws.ToString(j.JobId))
	}
	for range jobs {
		if msg := e.receive(t, queue); msg["Action"] != "InventoryRetrieval" || msg["InventorySizeInBytes"] == nil || msg["ArchiveId"] != nil {
			t.Errorf("inventory notification = %v", msg)
		}
	}
	e.waitDone(t, "inv", jobs[1])
	out, err := e.g.GetJobOutput(ctx, &glacier.GetJobOutputInput{VaultName: aws.String("inv"), JobId: aws.String(jobs[0])})
	if err != nil {
		t.Fatal(err)
	}
	var inv struct {
		VaultARN    string
		ArchiveList []struct {
			ArchiveId, ArchiveDescription, SHA256TreeHash string
			Size                                          int64
		}
	}
	if err := json.Unmarshal(bodyOf(t, out), &inv); err != nil || len(inv.ArchiveList) != 3 || inv.ArchiveList[2].ArchiveId != ids[2] ||
		inv.ArchiveList[1].Size != 1001 || inv.ArchiveList[0].ArchiveDescription != "archive 0" || aws.ToString(out.ContentType) != "application/json" {
		t.Errorf("JSON inventory = %+v, %v", inv, err)
	}
	out, err = e.g.GetJobOutput(ctx, &glacier.GetJobOutputInput{VaultName: aws.String("inv"), JobId: aws.String(jobs[1])})
	if err != nil {
		t.Fatal(err)
	}
	if csv := string(bodyOf(t, out)); !strings.HasPrefix(csv, "ArchiveId,ArchiveDescription,CreationDate,Size,SHA256TreeHash\n") || strings.Count(csv, "\n") != 4 {
		t.Errorf("CSV inventory = %q", csv)
	}

	// One more job, still running: ListJobs filters and pages.
	if _, err := e.g.InitiateJob(ctx, &glacier.InitiateJobInput{VaultName: aws.String("inv"), JobParameters: &types.JobParameters{
		Type: aws.String("archive-retrieval"), ArchiveId: aws.String(ids[0]), Tier: aws.String("Standard")}}); err != nil {
		t.Fatal(err)
	}
	var listed []string
	p := glacier.NewListJobsPaginator(e.g, &glacier.ListJobsInput{VaultName: aws.String("inv"), Completed: aws.String("true"), Limit: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range page.JobList {
			listed = append(listed, aws.ToString(j.JobId))
		}
	}
	if !slices.Equal(listed, jobs) {
		t.Errorf("completed jobs paged = %v, want %v", listed, jobs)
	}
}

func TestOutputExpiresAndStatePersists(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, Options{DataDir: dir, OutputTTL: 300 * time.Millisecond,
		TierDelays: map[string]time.Duration{"Standard": 500 * time.Millisecond, "Expedited": 10 * time.Millisecond}})
	ctx := context.Background()
	if err := e.svc.CreateVault("p"); err != nil {
		t.Fatal(err)
	}
	data := randomBytes(9, 4096)
	id, _, err := e.svc.PutArchive("p", bytes.NewReader(data), "kept")
	if err != nil {
		t.Fatal(err)
	}
	quick, err := e.g.InitiateJob(ctx, &glacier.InitiateJobInput{VaultName: aws.String("p"), JobParameters: &types.JobParameters{
		Type: aws.String("archive-retrieval"), ArchiveId: aws.String(id), Tier: aws.String("Expedited")}})
	if err != nil {
		t.Fatal(err)
	}
	e.waitDone(t, "p", aws.ToString(quick.JobId))
	deadline := time.Now().Add(5 * time.Second)
	var nf *types.ResourceNotFoundException
	for {
		_, err := e.g.DescribeJob(ctx, &glacier.DescribeJobInput{VaultName: aws.String("p"), JobId: quick.JobId})
		if errors.As(err, &nf) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job output never expired: %v", err)
		}
		<-time.After(20 * time.Millisecond)
	}

	slow, err := e.g.InitiateJob(ctx, &glacier.InitiateJobInput{VaultName: aws.String("p"), JobParameters: &types.JobParameters{
		Type: aws.String("archive-retrieval"), ArchiveId: aws.String(id), Tier: aws.String("Standard")}})
	if err != nil {
		t.Fatal(err)
	}
	// An upload left unfinished by the restart leaves no file behind.
	if _, err := e.g.InitiateMultipartUpload(ctx, &glacier.InitiateMultipartUploadInput{VaultName: aws.String("p"), PartSize: aws.String("1048576")}); err != nil {
		t.Fatal(err)
	}
	e.svc.mu.Lock()
	_, kept := e.svc.st.Jobs[aws.ToString(quick.JobId)]
	e.svc.mu.Unlock()
	if kept {
		t.Error("the expired job is still in the state after a new job was initiated")
	}
	if err := e.svc.Close(); err != nil {
		t.Fatal(err)
	}
	// Restart on the same directory: archive and pending job are back, and
	// the job completes at the time set when it was initiated.
	e2 := newEnv(t, Options{DataDir: dir, TierDelays: map[string]time.Duration{"Standard": time.Hour}})
	if left, err := filepath.Glob(filepath.Join(dir, "archives", "p", ".*")); err != nil || len(left) != 0 {
		t.Errorf("upload files left after a restart: %v, %v", left, err)
	}
	e2.waitDone(t, "p", aws.ToString(slow.JobId))
	out, err := e2.g.GetJobOutput(ctx, &glacier.GetJobOutputInput{VaultName: aws.String("p"), JobId: slow.JobId})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bodyOf(t, out), data) {
		t.Error("archive bytes changed across a restart")
	}
}
