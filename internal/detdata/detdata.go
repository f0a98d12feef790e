// Package detdata generates deterministic pseudo-random bytes (xorshift64),
// so large demo archives and test payloads need no memory and can be
// regenerated anywhere for comparison.
package detdata

import (
	"encoding/binary"
	"io"
)

// Reader yields a fixed number of deterministic bytes for a seed.
type Reader struct {
	state uint64
	left  int64
	buf   [8]byte
	have  int
}

// New returns a Reader of n bytes; the same seed gives the same bytes.
func New(seed uint64, n int64) *Reader { return &Reader{state: seed | 1, left: n} }

// Read implements io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n := 0
	for n < len(p) {
		if r.have == 0 {
			r.state ^= r.state << 13
			r.state ^= r.state >> 7
			r.state ^= r.state << 17
			binary.LittleEndian.PutUint64(r.buf[:], r.state)
			r.have = 8
		}
		c := copy(p[n:], r.buf[8-r.have:])
		r.have -= c
		n += c
	}
	r.left -= int64(n)
	return n, nil
}
