package activities_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilops/vigil/activities"
)

// A file destination that cannot be written fails at once, with the type
// the one classification gives local file systems: a path naming an
// existing directory used to be prepared, downloaded into and then retried
// for ever at the rename ("file exists", transient); a path under a regular
// file (ENOTDIR) was BadInput where restores said LocalPermanent.
func TestPrepareDestinationRefusesUnusablePaths(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "plain"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, path, want string }{
		{"existing directory", filepath.Join(dir, "out"), "is a directory"},
		{"under a regular file", filepath.Join(dir, "plain", "sub", "x.bin"), "not a directory"},
	}
	sinks := &activities.Sinks{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sinks.PrepareDestination(context.Background(), activities.PrepareInput{Dest: "file://" + tc.path, Size: 10, Owner: "glacier/v/a"})
			if permanentType(err) != activities.ErrTypeLocalPermanent {
				t.Fatalf("PrepareDestination(%s): %v, want non-retryable %s", tc.path, err, activities.ErrTypeLocalPermanent)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "out", "*")); len(left) > 0 {
		t.Errorf("files left in the directory: %v", left)
	}
}
