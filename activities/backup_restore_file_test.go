package activities

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// The hasher follows the contiguous prefix whatever order the ranges are
// written in (here: last first, then the middle ones interleaved, then
// the first), and hashes every byte exactly once.
func TestPrefixHasherOutOfOrderWrites(t *testing.T) {
	data := make([]byte, 10*restoreHashChunk+777)
	for i := range data {
		data[i] = byte(i*31 + i>>9)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := newPrefixHasher(f, nil)
	done := make(chan error, 1)
	go func() { done <- p.run() }()
	const piece = 300_001
	var offs []int64
	for off := int64(0); off < int64(len(data)); off += piece {
		offs = append(offs, off)
	}
	order := append([]int{len(offs) - 1}, 0)
	for i := len(offs) - 2; i >= 1; i-- {
		order = append(order, i)
	}
	order[1], order[len(order)-1] = order[len(order)-1], order[1] // the first range last
	for _, i := range order {
		end := min(offs[i]+piece, int64(len(data)))
		if _, err := p.WriteAt(data[offs[i]:end], offs[i]); err != nil {
			t.Fatal(err)
		}
	}
	p.close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(data)
	if got := p.sum(); got != hex.EncodeToString(want[:]) {
		t.Fatalf("sum %s, want %x", got, want)
	}
	if len(p.byStart) != 0 || p.frontier != int64(len(data)) {
		t.Fatalf("frontier %d of %d, %d intervals pending", p.frontier, len(data), len(p.byStart))
	}
}

// rereadSHA256 hashes what is on disk, from the start, whatever the
// file's offset.
func TestRereadSHA256(t *testing.T) {
	data := make([]byte, 3*restoreHashChunk+5)
	for i := range data {
		data[i] = byte(i * 7)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(data)
	if got, err := rereadSHA256(t.Context(), f); err != nil || got != hex.EncodeToString(want[:]) {
		t.Fatalf("reread: %s, %v; want %x", got, err, want)
	}
	data[restoreHashChunk] ^= 1
	if _, err := f.WriteAt(data[restoreHashChunk:restoreHashChunk+1], restoreHashChunk); err != nil {
		t.Fatal(err)
	}
	if got, _ := rereadSHA256(t.Context(), f); got == hex.EncodeToString(want[:]) {
		t.Fatal("a changed byte on disk went unnoticed")
	}
}
