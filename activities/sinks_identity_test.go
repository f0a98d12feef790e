package activities_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/treehash"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// isAppErr reports whether err is an application error of type typ.
func isAppErr(err error, typ string) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == typ
}

// TestRangeIntoReplacedDestination: the partial file of a prepared
// destination is gone (a new worker with a fresh disk took over the host):
// a range download fails with a non-retryable DestinationReplaced and does
// not create the file; a file re-created under the same name (another
// identity) is refused the same way.
func TestRangeIntoReplacedDestination(t *testing.T) {
	a := retrieveArchive(t, 4*mib)
	if st, err := os.Stat(a.partial()); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("prepared partial file: %v, %v; want mode 0600", st, err)
	}
	for _, p := range []string{a.partial(), a.partial() + activities.IdentitySuffix} {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	env, _ := a.env(nil)
	_, err := a.download(env, 1, flowdata.ByteRange{Start: 2 * mib, End: 4*mib - 1})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeDestinationReplaced || !appErr.NonRetryable() {
		t.Fatalf("range into a missing partial file: %v, want non-retryable %s", err, activities.ErrTypeDestinationReplaced)
	}
	if _, err := os.Stat(a.partial()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the range re-created the partial file: %v", err)
	}

	// Same name, same length, no token (or another one): not the file.
	if err := os.WriteFile(a.partial(), make([]byte, 4*mib), 0o600); err != nil {
		t.Fatal(err)
	}
	env, _ = a.env(nil)
	if _, err := a.download(env, 1, flowdata.ByteRange{Start: 2 * mib, End: 4*mib - 1}); !isAppErr(err, activities.ErrTypeDestinationReplaced) {
		t.Fatalf("range into a re-created partial file: %v, want %s", err, activities.ErrTypeDestinationReplaced)
	}
}

// TestFinishRefusesReplacedDestination: ranges recorded in this boot are
// trusted only in the file they were written to; a partial file of the
// right length re-created under the same name (the replaced-disk bug: a
// sparse file of zeros) fails the finish with DestinationReplaced and is
// not published, and so does a missing one.
func TestFinishRefusesReplacedDestination(t *testing.T) {
	const chunk = 1 << 20
	data := pattern(2*chunk, 5)
	dest, _ := fileDest(t)
	sinks := &activities.Sinks{}
	ctx := context.Background()
	prep, err := sinks.PrepareDestination(ctx, activities.PrepareInput{Dest: "file://" + dest, Size: int64(len(data)), Owner: "glacier/v/a"})
	if err != nil || prep.Identity == "" {
		t.Fatalf("prepare: %+v, %v; want an identity", prep, err)
	}
	in := activities.FinishInput{Prepared: prep, TreeHash: treehash.Of(data)}
	for i := range 2 {
		in.Parts = append(in.Parts, activities.RangePart{Index: i, Bytes: chunk, TreeHash: treehash.Of(data[i*chunk : (i+1)*chunk]), Boot: activities.BootID()})
	}
	// A new disk: the partial file is re-created, full length, zeros.
	if err := os.Remove(prep.PartialPath() + activities.IdentitySuffix); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(prep.PartialPath(), make([]byte, len(data)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := sinks.FinishDestination(ctx, in); !isAppErr(err, activities.ErrTypeDestinationReplaced) {
		t.Fatalf("finish of a re-created partial file: %v, want %s", err, activities.ErrTypeDestinationReplaced)
	}
	if _, err := os.Stat(dest); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a replaced file was published: %v", err)
	}
	if err := os.Remove(prep.PartialPath()); err != nil {
		t.Fatal(err)
	}
	if _, err := sinks.FinishDestination(ctx, in); !isAppErr(err, activities.ErrTypeDestinationReplaced) {
		t.Fatalf("finish of a missing partial file: %v, want %s", err, activities.ErrTypeDestinationReplaced)
	}
}

// TestFinishVerifyFull: a range whose bytes changed on disk after they
// were written (same file, same boot) passes the cheap finish, which
// trusts ranges of this boot, but --verify full re-reads every range and
// reports it lost; the intact file is published, mode 0644, its identity
// token removed.
func TestFinishVerifyFull(t *testing.T) {
	const chunk = 1 << 20
	data := pattern(3*chunk, 9)
	dest, _ := fileDest(t)
	sinks := &activities.Sinks{}
	ctx := context.Background()
	prep, err := sinks.PrepareDestination(ctx, activities.PrepareInput{Dest: "file://" + dest, Size: int64(len(data)), Owner: "glacier/v/b"})
	if err != nil {
		t.Fatal(err)
	}
	onDisk := slices.Clone(data)
	onDisk[chunk+17] ^= 1 // one bit of range 1
	f, err := os.OpenFile(prep.PartialPath(), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(onDisk, 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	in := activities.FinishInput{Prepared: prep, TreeHash: treehash.Of(data), Verify: flowdata.VerifyFull}
	for i := range 3 {
		in.Parts = append(in.Parts, activities.RangePart{Index: i, Bytes: chunk, TreeHash: treehash.Of(data[i*chunk : (i+1)*chunk]), Boot: activities.BootID()})
	}
	_, err = sinks.FinishDestination(ctx, in)
	var appErr *temporal.ApplicationError
	var lost []int
	if !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeRangesLost || appErr.Details(&lost) != nil || !slices.Equal(lost, []int{1}) {
		t.Fatalf("verify full of a changed range: %v (lost %v), want RangesLost [1]", err, lost)
	}
	if _, err := os.Stat(dest); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a changed file was published: %v", err)
	}
	f, err = os.OpenFile(prep.PartialPath(), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := sinks.FinishDestination(ctx, in); err != nil {
		t.Fatalf("verify full of the intact file: %v", err)
	}
	st, err := os.Stat(dest)
	if err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("published file: %v, %v; want mode 0644", st, err)
	}
	if _, err := os.Stat(prep.PartialPath() + activities.IdentitySuffix); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("identity token left after the publish: %v", err)
	}
}

// TestFinishVerifyFullFromDisk: --verify full syncs the partial file and
// drops its cached pages before it re-reads it. The drop's test hook
// changes one byte on disk behind the writes; only a check that re-reads
// after the drop sees it, so full reports the range lost, while the cheap
// finish (ranges of this boot trusted, nothing re-read) never drops.
func TestFinishVerifyFullFromDisk(t *testing.T) {
	const chunk = 1 << 20
	data := pattern(3*chunk, 5)
	sinks := &activities.Sinks{}
	ctx := context.Background()
	var drops []string
	activities.SetAfterDrop(t, func(f *os.File) {
		drops = append(drops, f.Name())
		w, err := os.OpenFile(f.Name(), os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if _, err := w.WriteAt([]byte{data[2*chunk+3] ^ 0x80}, 2*chunk+3); err != nil {
			t.Fatal(err)
		}
	})
	finish := func(verify string) (activities.Prepared, error) {
		dest, _ := fileDest(t)
		prep, err := sinks.PrepareDestination(ctx, activities.PrepareInput{Dest: "file://" + dest, Size: int64(len(data)), Owner: "glacier/v/b"})
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(prep.PartialPath(), os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt(data, 0); err != nil {
			t.Fatal(err)
		}
		f.Close()
		in := activities.FinishInput{Prepared: prep, TreeHash: treehash.Of(data), Verify: verify}
		for i := range 3 {
			in.Parts = append(in.Parts, activities.RangePart{Index: i, Bytes: chunk, TreeHash: treehash.Of(data[i*chunk : (i+1)*chunk]), Boot: activities.BootID()})
		}
		_, err = sinks.FinishDestination(ctx, in)
		return prep, err
	}
	if _, err := finish(flowdata.VerifyCheap); err != nil || len(drops) != 0 {
		t.Fatalf("cheap finish: %v, cache drops %v; want success and none", err, drops)
	}
	prep, err := finish(flowdata.VerifyFull)
	var appErr *temporal.ApplicationError
	var lost []int
	if !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeRangesLost || appErr.Details(&lost) != nil || !slices.Equal(lost, []int{2}) {
		t.Fatalf("verify full after the bytes changed behind the cache drop: %v (lost %v), want RangesLost [2]", err, lost)
	}
	if !slices.Equal(drops, []string{prep.PartialPath()}) {
		t.Fatalf("cache drops %v, want one of %s", drops, prep.PartialPath())
	}
}

// TestPartialReopenedIs0600: a partial file left 0644 by an older worker
// is made 0600 when it is prepared again (O_CREATE keeps an existing
// file's mode) and when a range write or a resumed delivery reopens it.
func TestPartialReopenedIs0600(t *testing.T) {
	dest, _ := fileDest(t)
	sinks := &activities.Sinks{}
	in := activities.PrepareInput{Dest: "file://" + dest, Size: 1 << 20, Owner: "glacier/v/b"}
	prep, err := sinks.PrepareDestination(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	mode := func() os.FileMode {
		st, err := os.Stat(prep.PartialPath())
		if err != nil {
			t.Fatal(err)
		}
		return st.Mode().Perm()
	}
	if err := os.Chmod(prep.PartialPath(), 0o644); err != nil {
		t.Fatal(err)
	}
	if prep, err = sinks.PrepareDestination(context.Background(), in); err != nil || mode() != 0o600 {
		t.Fatalf("prepared again over a 0644 partial file: %v, mode %o; want 0600", err, mode())
	}
	if err := os.Chmod(prep.PartialPath(), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := activities.OpenPartialForWrite(prep.PartialPath(), prep.Identity)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if mode() != 0o600 {
		t.Fatalf("reopened for writes: mode %o, want 0600", mode())
	}
}
