package workflows

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReplayManifestAppendOnly reads the manifest's own history: a commit
// that removed or changed one of its lines (a history re-recorded with its
// line edited to match) fails here, where TestReplayManifest alone would
// pass. It needs the repository's history; without git or in a shallow
// clone it says so and skips.
func TestReplayManifestAppendOnly(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("no git on PATH: the manifest's history cannot be read")
	}
	if out, err := exec.Command(git, "rev-parse", "--is-shallow-repository").Output(); err != nil || strings.TrimSpace(string(out)) != "false" {
		t.Skipf("not a full git checkout (%v): the manifest's history cannot be read", err)
	}
	manifest := filepath.Join(replayDir, replayManifest)
	out, err := exec.Command(git, "log", "--format=commit %h", "-p", "--", manifest).Output()
	if err != nil {
		t.Fatalf("git log %s: %v", manifest, err)
	}
	commit, added := "", 0
	for line := range strings.SplitSeq(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "commit "):
			commit = strings.TrimPrefix(line, "commit ")
		case strings.HasPrefix(line, "+") && !strings.HasPrefix(line, "+++"):
			added++
		case strings.HasPrefix(line, "-") && !strings.HasPrefix(line, "---"):
			t.Errorf("commit %s took a line out of %s: %q (recorded histories are only added)", commit, replayManifest, line[1:])
		}
	}
	if added == 0 {
		t.Fatalf("git log shows no line ever added to %s", manifest)
	}
}
