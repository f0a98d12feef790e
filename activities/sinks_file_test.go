package activities_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/internal/treehash"
)

// TestFinishRechecksRangesFromAnotherBoot: ranges written in this boot are
// trusted (they were verified as they streamed); ranges written before a
// restart are re-read, and those that lost their bytes are reported.
func TestFinishRechecksRangesFromAnotherBoot(t *testing.T) {
	const chunk = 1 << 20
	data := pattern(3*chunk, 7)
	dest, loc := fileDest(t)
	var parts []activities.RangePart
	for i := range 3 {
		parts = append(parts, activities.RangePart{Index: i, Bytes: chunk, TreeHash: treehash.Of(data[i*chunk : (i+1)*chunk]), Boot: activities.BootID()})
	}
	whole := treehash.Of(data)
	// On disk, range 1 is zeros: its bytes never reached the disk.
	onDisk := slices.Clone(data)
	clear(onDisk[chunk : 2*chunk])
	if err := os.WriteFile(dest+activities.PartialSuffix, onDisk, 0o644); err != nil {
		t.Fatal(err)
	}
	sinks := &activities.Sinks{}
	ctx := context.Background()
	in := activities.FinishInput{Prepared: activities.Prepared{Dest: loc, Size: int64(len(data))}, TreeHash: whole}

	// Written before a restart: ranges 0 and 1 are re-read; 1 is lost.
	in.Parts = slices.Clone(parts)
	in.Parts[0].Boot, in.Parts[1].Boot = "earlier-boot", "earlier-boot"
	_, err := sinks.FinishDestination(ctx, in)
	var appErr *temporal.ApplicationError
	var lost []int
	if !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeRangesLost || appErr.Details(&lost) != nil || !slices.Equal(lost, []int{1}) {
		t.Fatalf("finish after a restart: %v (lost %v), want RangesLost [1]", err, lost)
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Errorf("a damaged output was published: %v", err)
	}

	// The same boot: the verified ranges are trusted, the file is renamed.
	in.Parts = parts
	fin, err := sinks.FinishDestination(ctx, in)
	if err != nil || fin.TreeHash != whole || fin.Bytes != int64(len(data)) {
		t.Fatalf("finish in the same boot: %+v, %v", fin, err)
	}
	if _, err := os.Stat(dest); err != nil {
		t.Errorf("output not published: %v", err)
	}
}

// TestFinishAfterTheFileWasLost: a reboot took the unsynced partial file
// (or its tail) with it: the ranges past its end are reported lost.
func TestFinishAfterTheFileWasLost(t *testing.T) {
	const chunk = 1 << 20
	data := pattern(3*chunk, 13)
	dest, loc := fileDest(t)
	in := activities.FinishInput{Prepared: activities.Prepared{Dest: loc, Size: int64(len(data))}, TreeHash: treehash.Of(data)}
	for i := range 3 {
		in.Parts = append(in.Parts, activities.RangePart{Index: i, Bytes: chunk, TreeHash: treehash.Of(data[i*chunk : (i+1)*chunk]), Boot: activities.BootID()})
	}
	sinks := &activities.Sinks{}
	for _, tc := range []struct {
		name   string
		onDisk []byte // nil: no file
		lost   []int
	}{
		{"no file", nil, []int{0, 1, 2}},
		{"short file", data[:chunk+5], []int{1, 2}},
	} {
		_ = os.Remove(dest + activities.PartialSuffix)
		if tc.onDisk != nil {
			if err := os.WriteFile(dest+activities.PartialSuffix, tc.onDisk, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		_, err := sinks.FinishDestination(context.Background(), in)
		var appErr *temporal.ApplicationError
		var lost []int
		if !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeRangesLost || appErr.Details(&lost) != nil || !slices.Equal(lost, tc.lost) {
			t.Errorf("%s: %v (lost %v), want RangesLost %v", tc.name, err, lost, tc.lost)
		}
	}
}

// TestFinishHashesUnalignedRangesWhole: 3 MiB ranges are not nodes of the
// tree, so their hashes cannot be combined; the file is hashed instead.
func TestFinishHashesUnalignedRangesWhole(t *testing.T) {
	const rng = 3 << 20
	data := pattern(2*rng+100, 31)
	dest, loc := fileDest(t)
	if err := os.WriteFile(dest+activities.PartialSuffix, data, 0o644); err != nil {
		t.Fatal(err)
	}
	in := activities.FinishInput{Prepared: activities.Prepared{Dest: loc, Size: int64(len(data))}, TreeHash: treehash.Of(data)}
	for i, off := 0, 0; off < len(data); i, off = i+1, off+rng {
		end := min(off+rng, len(data))
		in.Parts = append(in.Parts, activities.RangePart{Index: i, Bytes: int64(end - off), TreeHash: treehash.Of(data[off:end]), Boot: activities.BootID()})
	}
	fin, err := (&activities.Sinks{}).FinishDestination(context.Background(), in)
	if err != nil || fin.TreeHash != treehash.Of(data) {
		t.Fatalf("finish with 3 MiB ranges: %+v, %v", fin, err)
	}
	got, err := os.ReadFile(dest)
	if err != nil || !slices.Equal(got, data) {
		t.Errorf("published file: %d bytes, %v", len(got), err)
	}
}

// TestPreparedPartialIsPerOwner: two retrievals to one path write to two
// partial files; the finish publishes the one it verified.
func TestPreparedPartialIsPerOwner(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "out.bin")
	sinks := &activities.Sinks{}
	ctx := context.Background()
	a, errA := sinks.PrepareDestination(ctx, activities.PrepareInput{Dest: "file://" + dest, Size: 10, Owner: "glacier/v/a"})
	b, errB := sinks.PrepareDestination(ctx, activities.PrepareInput{Dest: "file://" + dest, Size: 10, Owner: "glacier/v/b"})
	if errA != nil || errB != nil || a.PartialPath() == b.PartialPath() || !strings.HasSuffix(a.PartialPath(), activities.PartialSuffix) {
		t.Fatalf("partials %q and %q (%v, %v): want two distinct files", a.PartialPath(), b.PartialPath(), errA, errB)
	}
	data := []byte("0123456789")
	if err := os.WriteFile(a.PartialPath(), data, 0o644); err != nil {
		t.Fatal(err)
	}
	fin, err := sinks.FinishDestination(ctx, activities.FinishInput{Prepared: a, TreeHash: treehash.Of(data),
		Parts: []activities.RangePart{{Index: 0, Bytes: 10, TreeHash: treehash.Of(data), Boot: activities.BootID()}}})
	if err != nil || fin.Bytes != 10 {
		t.Fatalf("finish: %+v, %v", fin, err)
	}
	if got, err := os.ReadFile(dest); err != nil || string(got) != string(data) {
		t.Errorf("published %q, %v", got, err)
	}
	if _, err := os.Stat(b.PartialPath()); err != nil {
		t.Errorf("the other retrieval's partial file was touched: %v", err)
	}
}

// pattern returns n bytes that differ with mul.
func pattern(n, mul int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * mul)
	}
	return b
}

// fileDest is a file destination in a fresh directory.
func fileDest(t *testing.T) (string, location.Location) {
	t.Helper()
	dest := filepath.Join(t.TempDir(), "out.bin")
	loc, err := location.Parse("file://" + dest)
	if err != nil {
		t.Fatal(err)
	}
	return dest, loc
}
