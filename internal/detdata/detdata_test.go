package detdata

import (
	"bytes"
	"io"
	"testing"
)

func TestDeterministicAndSized(t *testing.T) {
	a, err := io.ReadAll(New(7, 1<<20+3))
	if err != nil {
		t.Fatal(err)
	}
	// Odd-sized reads give the same stream.
	var b bytes.Buffer
	r := New(7, 1<<20+3)
	buf := make([]byte, 13)
	for {
		n, err := r.Read(buf)
		b.Write(buf[:n])
		if err == io.EOF {
			break
		}
	}
	c, _ := io.ReadAll(New(8, 1<<20+3))
	if len(a) != 1<<20+3 || !bytes.Equal(a, b.Bytes()) || bytes.Equal(a, c) {
		t.Fatalf("len %d, same stream in chunks %v, differs by seed %v", len(a), bytes.Equal(a, b.Bytes()), !bytes.Equal(a, c))
	}
}
