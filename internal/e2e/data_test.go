package e2e

import (
	"encoding/binary"
	"io"
)

// detReader yields n deterministic pseudo-random bytes (xorshift64), so
// large archives need no memory and can be regenerated for comparison.
type detReader struct {
	state uint64
	left  int64
	buf   [8]byte
	have  int
}

func newDetReader(seed uint64, n int64) *detReader { return &detReader{state: seed | 1, left: n} }

func (r *detReader) Read(p []byte) (int, error) {
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
