package treehash

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// reference computes the tree hash the slow, obvious way.
func reference(b []byte) string {
	var level [][]byte
	for i := 0; i < len(b) || i == 0; i += ChunkSize {
		s := sha256.Sum256(b[i:min(i+ChunkSize, len(b))])
		level = append(level, s[:])
		if len(b) == 0 {
			break
		}
	}
	for len(level) > 1 {
		var next [][]byte
		for i := 0; i < len(level); i += 2 {
			if i+1 < len(level) {
				s := sha256.Sum256(append(append([]byte{}, level[i]...), level[i+1]...))
				next = append(next, s[:])
			} else {
				next = append(next, level[i])
			}
		}
		level = next
	}
	return hex.EncodeToString(level[0])
}

func TestTreeHashMatchesReference(t *testing.T) {
	for _, size := range []int{0, 1, ChunkSize - 1, ChunkSize, ChunkSize + 1, 3 * ChunkSize, 5*ChunkSize + 17} {
		b := bytes.Repeat([]byte("vigil-"), size/6+1)[:size]
		// Write in odd pieces to cross chunk boundaries.
		h := New()
		for off := 0; off < len(b); off += 77777 {
			h.Write(b[off:min(off+77777, len(b))])
		}
		if got, want := h.Hex(), reference(b); got != want {
			t.Errorf("size %d: %s, want %s", size, got, want)
		}
	}
	// A single chunk's tree hash is its plain SHA-256.
	one := []byte("hello")
	s := sha256.Sum256(one)
	if Of(one) != hex.EncodeToString(s[:]) {
		t.Error("one-chunk tree hash differs from SHA-256")
	}
}

func TestSubtreeCombine(t *testing.T) {
	b := bytes.Repeat([]byte{7, 1, 3}, 7*ChunkSize/3+100)
	full := New()
	full.Write(b)
	// Hashes of aligned ranges combine into the whole.
	a, c := New(), New()
	a.Write(b[:4*ChunkSize])
	c.Write(b[4*ChunkSize:])
	if got := hex.EncodeToString(Combine([][]byte{a.Sum(), c.Sum()})); got != full.Hex() {
		t.Errorf("combined %s, want %s", got, full.Hex())
	}
}

func TestAligned(t *testing.T) {
	const M = ChunkSize
	size := int64(7*M + 5)
	cases := []struct {
		start, end int64
		want       bool
	}{
		{0, M - 1, true},
		{M, 2*M - 1, true},
		{0, 2*M - 1, true},
		{M, 3*M - 1, false}, // 2 MiB starting at 1 MiB is not a subtree
		{4 * M, size - 1, true},
		{0, size - 1, true},
		{0, 3*M - 1, false},
		{10, M - 1, false},
		{6 * M, size - 1, true},
	}
	for _, tc := range cases {
		if got := Aligned(tc.start, tc.end, size); got != tc.want {
			t.Errorf("Aligned(%d, %d) = %v, want %v", tc.start, tc.end, got, tc.want)
		}
	}
}
