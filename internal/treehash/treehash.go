// Package treehash computes Amazon Glacier's SHA-256 tree hash: the data is
// split into 1 MiB chunks, each chunk is hashed, and adjacent hashes are
// hashed together pairwise, level by level, until one remains (an odd hash
// at the end of a level is carried up as it is).
//
// Used by the Glacier emulator (to answer and check x-amz-sha256-tree-hash)
// and by the retrieval activities (to verify each downloaded range and the
// whole output without keeping the data).
package treehash

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"os"
)

// ChunkSize is the leaf size of the tree: 1 MiB.
const ChunkSize = 1 << 20

// Hasher is an io.Writer that accumulates the tree hash of what is written,
// keeping only the leaf hashes (32 bytes per MiB).
type Hasher struct {
	leaf   hash.Hash
	filled int
	leaves [][]byte
}

// New returns an empty Hasher.
func New() *Hasher { return &Hasher{leaf: sha256.New()} }

// Write adds data.
func (h *Hasher) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		take := min(ChunkSize-h.filled, len(p))
		h.leaf.Write(p[:take])
		h.filled += take
		p = p[take:]
		if h.filled == ChunkSize {
			h.leaves = append(h.leaves, h.leaf.Sum(nil))
			h.leaf.Reset()
			h.filled = 0
		}
	}
	return n, nil
}

// Leaves returns the 1 MiB chunk hashes so far, including a partial last
// chunk.
func (h *Hasher) Leaves() [][]byte {
	out := append([][]byte(nil), h.leaves...)
	if h.filled > 0 || len(out) == 0 {
		out = append(out, h.leaf.Sum(nil))
	}
	return out
}

// Sum returns the tree hash of everything written (the hash of empty data
// is the SHA-256 of nothing).
func (h *Hasher) Sum() []byte { return Combine(h.Leaves()) }

// Hex returns Sum as lowercase hex, the wire form.
func (h *Hasher) Hex() string { return hex.EncodeToString(h.Sum()) }

// Combine reduces a level of hashes to the root.
func Combine(level [][]byte) []byte {
	if len(level) == 0 {
		s := sha256.Sum256(nil)
		return s[:]
	}
	for len(level) > 1 {
		next := make([][]byte, 0, (len(level)+1)/2)
		for i := 0; i < len(level); i += 2 {
			if i+1 == len(level) {
				next = append(next, level[i])
				continue
			}
			s := sha256.New()
			s.Write(level[i])
			s.Write(level[i+1])
			next = append(next, s.Sum(nil))
		}
		level = next
	}
	return level[0]
}

// Of returns the tree hash of b as hex.
func Of(b []byte) string {
	h := New()
	h.Write(b)
	return h.Hex()
}

// Aligned reports whether the byte range [start, end] (inclusive) of an
// object of the given size is tree-hash aligned, i.e. Glacier returns a
// tree hash for it: start is a multiple of ChunkSize×2^k and the range
// covers a whole subtree (end+1 is a multiple of the same unit, or the end
// of the object).
func Aligned(start, end, size int64) bool {
	if start < 0 || end < start || end >= size || start%ChunkSize != 0 {
		return false
	}
	length := end - start + 1
	// The unit is the smallest power-of-two number of chunks ≥ the range.
	unit := int64(ChunkSize)
	for unit < length {
		unit *= 2
	}
	if start%unit != 0 {
		return false
	}
	return length == unit || end == size-1
}

// File returns the tree hash (hex) and size of a file, reading it once
// with bounded memory.
func File(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := New()
	n, err := f.WriteTo(h)
	if err != nil {
		return "", n, err
	}
	return h.Hex(), n, nil
}
