package activities

import (
	"os"
	"path/filepath"
	"testing"
)

// A restore in flight across the upgrade to per-workflow partial names
// resumes in the file it started under the shared name (same identity
// token) instead of starting over and leaving that file behind; a file
// with another token is left alone.
func TestAdoptPartialFromSharedName(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "r.bin")
	legacy := dest + PartialSuffix
	if err := os.WriteFile(legacy, []byte("half"), partialMode); err != nil {
		t.Fatal(err)
	}
	id, err := newIdentity(legacy)
	if err != nil {
		t.Fatal(err)
	}
	partial := partialFor(dest, "s3restore/b/k")

	adoptPartial(legacy, partial, DownloadProgress{Done: 4, ID: "another-token"})
	if _, err := os.Stat(legacy); err != nil {
		t.Fatalf("a partial file of another token was moved: %v", err)
	}

	adoptPartial(legacy, partial, DownloadProgress{Done: 4, ID: id})
	if b, err := os.ReadFile(partial); err != nil || string(b) != "half" {
		t.Fatalf("partial file under the workflow's name: %q, %v", b, err)
	}
	if err := checkIdentity(partial, id); err != nil {
		t.Errorf("identity did not follow the file: %v", err)
	}
	if _, err := os.Stat(legacy); !os.IsNotExist(err) {
		t.Errorf("the shared-name file is still there: %v", err)
	}
	f, err := openPartialForWrite(partial, id)
	if err != nil {
		t.Fatalf("resume in the adopted file: %v", err)
	}
	f.Close()
}
