package workflows

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// replayManifest pins the recorded histories: one "SHA-256  file" line
// each (sha256sum's format), so a history that is changed, re-recorded or
// deleted fails TestReplayManifest. -record appends the line of each file
// it records.
const replayManifest = "MANIFEST.sha256"

// replayDir holds the recorded histories.
var replayDir = filepath.Join("testdata", "replay")

// fileDigest is the hex SHA-256 of a file's content.
func fileDigest(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// manifestLine is a history's line in the manifest.
func manifestLine(file string) (string, error) {
	d, err := fileDigest(filepath.Join(replayDir, file))
	if err != nil {
		return "", err
	}
	return d + "  " + file, nil
}

// readManifest reads the manifest into file → digest.
func readManifest(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		digest, file, ok := strings.Cut(line, "  ")
		if !ok || len(digest) != sha256.Size*2 || file == "" {
			return nil, fmt.Errorf("%s:%d: want \"SHA-256  file\", got %q", path, n, line)
		}
		if _, dup := m[file]; dup {
			return nil, fmt.Errorf("%s:%d: %s listed twice", path, n, file)
		}
		m[file] = digest
	}
	return m, sc.Err()
}

// appendManifest adds a recorded history's line to the manifest.
func appendManifest(file string) error {
	line, err := manifestLine(file)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(replayDir, replayManifest), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(f, line); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// checkReplayPins checks dir's histories against its manifest and the
// replay cases' files, returning one problem per line.
func checkReplayPins(dir string, cases []string) []string {
	var problems []string
	pinned, err := readManifest(filepath.Join(dir, replayManifest))
	if err != nil {
		return []string{err.Error()}
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	var files []string
	for _, n := range names {
		files = append(files, filepath.Base(n))
	}
	for _, f := range slices.Sorted(maps.Keys(pinned)) {
		got, err := fileDigest(filepath.Join(dir, f))
		switch {
		case os.IsNotExist(err):
			problems = append(problems, fmt.Sprintf("%s is pinned in %s but deleted: recorded histories are never removed", f, replayManifest))
		case err != nil:
			problems = append(problems, err.Error())
		case got != pinned[f]:
			problems = append(problems, fmt.Sprintf("%s changed (SHA-256 %s, pinned %s): recorded histories are never edited or re-recorded; restore it with git checkout and add a new case for new behaviour", f, got, pinned[f]))
		}
	}
	for _, f := range files {
		if _, ok := pinned[f]; !ok {
			problems = append(problems, fmt.Sprintf("%s is not in %s: record new histories with `go test ./workflows -run TestReplay -record` (it appends their digests), or add the line `sha256sum %s` prints", f, replayManifest, f))
		}
		if !slices.Contains(cases, f) {
			problems = append(problems, fmt.Sprintf("%s has no replay case: declare one in a workflows/replay_*_test.go file", f))
		}
	}
	for _, c := range cases {
		if !slices.Contains(files, c) {
			problems = append(problems, fmt.Sprintf("replay case %s has no recorded history in %s: run `go test ./workflows -run TestReplay -record`", c, dir))
		}
	}
	return problems
}

// replayCaseFiles lists the files of the declared replay cases.
func replayCaseFiles() []string {
	var files []string
	for _, tc := range replayCases {
		files = append(files, tc.file)
	}
	return files
}

// TestReplayManifest pins the recorded histories: every history matches
// its digest in the manifest, none is deleted or unlisted, and every
// history has a replay case and every case a history.
func TestReplayManifest(t *testing.T) {
	for _, p := range checkReplayPins(replayDir, replayCaseFiles()) {
		t.Error(p)
	}
}

// TestReplayManifestCatches checks that each kind of drift is reported,
// on a copy of the histories.
func TestReplayManifestCatches(t *testing.T) {
	files := replayCaseFiles()
	copyDir := func(t *testing.T) string {
		dir := t.TempDir()
		for _, f := range append(slices.Clone(files), replayManifest) {
			b, err := os.ReadFile(filepath.Join(replayDir, f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	for _, tc := range []struct {
		name, want string
		change     func(dir string) error
		cases      []string
	}{
		{"changed", "changed", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, files[0]), []byte(`{"events":[]}`), 0o644)
		}, files},
		{"deleted", "deleted", func(dir string) error { return os.Remove(filepath.Join(dir, files[0])) }, files},
		{"unlisted", "-record", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "new.json"), []byte(`{}`), 0o644)
		}, append(slices.Clone(files), "new.json")},
		{"no case", "has no replay case", func(string) error { return nil }, files[1:]},
		{"no history", "has no recorded history", func(string) error { return nil }, append(slices.Clone(files), "missing.json")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t)
			if p := checkReplayPins(dir, files); len(p) > 0 {
				t.Fatalf("the unchanged copy fails: %v", p)
			}
			if err := tc.change(dir); err != nil {
				t.Fatal(err)
			}
			p := checkReplayPins(dir, tc.cases)
			if len(p) == 0 || !strings.Contains(strings.Join(p, "\n"), tc.want) {
				t.Errorf("problems %q: want one saying %q", p, tc.want)
			}
		})
	}
}
