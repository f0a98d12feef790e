package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// TestGlacierReadableIDs: a retrieval's workflow ID is short (vault, a
// prefix of the archive id, a digest) and its full archive id is in the
// VigilArchiveID search attribute and the memo; a start for an archive
// whose retrieval runs under the ID of earlier releases (the whole
// archive id) attaches to that run instead of starting another.
func TestGlacierReadableIDs(t *testing.T) {
	s := newGlacierStack(t)
	ctx := context.Background()
	const vault = "ids-vault"

	t.Run("new retrieval: short ID, archive id in search attribute and memo", func(t *testing.T) {
		archive, _ := s.putArchive(t, vault, 1, 1<<20)
		id := workflows.GlacierWorkflowID(vault, archive)
		if !strings.HasPrefix(id, "glacier/"+vault+"/"+archive[:10]+"-") || len(id) > len("glacier/"+vault+"/")+23 || strings.Contains(id, archive) {
			t.Fatalf("ID %q (archive id of %d characters): want glacier/%s/<10 characters>-<12 hex digits>", id, len(archive), vault)
		}
		r := s.run(ctx, nil, "glacier", "retrieve", "--vault", vault, "--archive-id", archive, "--tier", "Bulk",
			"--to", "file://"+filepath.Join(t.TempDir(), "new.bin"))
		if got, _ := startedRun(t, r.stderr); r.code != 0 || got != id {
			t.Fatalf("exit %d, started %q, want %s; stderr %q", r.code, got, id, r.stderr)
		}
		defer func() { _ = s.c.TerminateWorkflow(ctx, id, "", "test done") }()
		testenv.Eventually(t, 30*time.Second, 50*time.Millisecond, "the archive id in the search attribute and memo", func() bool {
			d, err := s.c.DescribeWorkflowExecution(ctx, id, "")
			if err != nil {
				return false
			}
			info := d.GetWorkflowExecutionInfo()
			var attr, memo string
			if p := info.GetSearchAttributes().GetIndexedFields()[workflows.SearchAttrArchive]; p != nil {
				_ = converter.GetDefaultDataConverter().FromPayload(p, &attr)
			}
			if p := info.GetMemo().GetFields()[workflows.MemoArchiveID]; p != nil {
				_ = converter.GetDefaultDataConverter().FromPayload(p, &memo)
			}
			return attr == archive && memo == archive
		})
	})

	t.Run("a run under the earlier ID form is attached to", func(t *testing.T) {
		archive, _ := s.putArchive(t, vault, 2, 1<<20)
		legacy := workflows.GlacierLegacyWorkflowID(vault, archive)
		dest := "file://" + filepath.Join(t.TempDir(), "old.bin")
		run, err := s.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: legacy, TaskQueue: workflows.TaskQueue}, workflows.GlacierRetrieveName,
			workflows.GlacierRetrieveInput{Vault: vault, ArchiveID: archive, Tier: flowdata.TierBulk, Destination: dest,
				PollInterval: flowdata.Duration(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = s.c.TerminateWorkflow(ctx, legacy, "", "test done") }()
		r := s.run(ctx, nil, "glacier", "retrieve", "--vault", vault, "--archive-id", archive, "--tier", "Bulk", "--to", dest)
		if !strings.HasPrefix(r.stderr, "attached to the running "+legacy+" ") || r.code != 0 {
			t.Fatalf("exit %d, stderr %q; want attached to the running %s", r.code, r.stderr, legacy)
		}
		if _, got := startedRun(t, r.stderr); got != run.GetRunID() {
			t.Errorf("attached to run %s, want %s", got, run.GetRunID())
		}
		if _, err := s.c.DescribeWorkflowExecution(ctx, workflows.GlacierWorkflowID(vault, archive), ""); err == nil {
			t.Errorf("a second run was started under the new ID")
		}
	})
}
