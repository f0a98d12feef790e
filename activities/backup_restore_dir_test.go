package activities_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// TestRestoreDirSyncsBeforeSwap: a directory restore fsyncs every file it
// extracted and every directory of the tree, each directory after its
// content, all before the tree replaces the old one.
func TestRestoreDirSyncsBeforeSwap(t *testing.T) {
	b := newBackupEnv(t, nil)
	src := filepath.Join(t.TempDir(), "site")
	must(t, os.MkdirAll(filepath.Join(src, "conf", "empty"), 0o755))
	must(t, os.WriteFile(filepath.Join(src, "conf", "app.yaml"), []byte("port: 8080\n"), 0o640))
	must(t, os.WriteFile(filepath.Join(src, "run.sh"), []byte("#!/bin/sh\n"), 0o755))
	must(t, os.Symlink("conf/app.yaml", filepath.Join(src, "current")))
	key := "site/20261207T200000Z." + activities.ArchiveExt(flowdata.CompressionZstd)
	res, err := b.upload(activities.BackupUploadInput{Source: "dir:" + src, Key: key, Compression: flowdata.CompressionZstd})
	if err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "restored")
	must(t, os.MkdirAll(filepath.Join(dest, "stale"), 0o755))
	var synced []string // relative to the extracted tree's root
	activities.SetRestoreSynced(t, func(path string) {
		if _, err := os.Stat(filepath.Join(dest, "stale")); err != nil {
			t.Errorf("%s synced after the swap (%v)", path, err)
		}
		i := strings.Index(path, ".vigil-restore-")
		if i < 0 {
			t.Errorf("synced %s outside the extracted tree", path)
			return
		}
		rel, _ := filepath.Rel(path[:i+strings.IndexByte(path[i:], '/')+1], path)
		if !strings.Contains(path[i:], "/") {
			rel = "."
		}
		synced = append(synced, rel)
	})
	if err := b.restore(activities.ObjectRef{Bucket: backupBucket, Key: key, SHA256: res.SHA256, Size: res.Bytes}, "dir:"+dest); err != nil {
		t.Fatal(err)
	}
	var want []string
	must(t, filepath.WalkDir(dest, func(p string, d fs.DirEntry, err error) error {
		if err == nil && (d.IsDir() || d.Type().IsRegular()) {
			rel, _ := filepath.Rel(dest, p)
			want = append(want, rel)
		}
		return err
	}))
	for _, w := range want {
		at := slices.Index(synced, w)
		if at < 0 {
			t.Errorf("%s was not synced (synced: %q)", w, synced)
			continue
		}
		for i, s := range synced {
			if w != "." && filepath.Dir(s) == w && i > at || w == "." && i > at {
				t.Errorf("directory %s synced before its entry %s", w, s)
			}
		}
	}
}
