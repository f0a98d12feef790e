package flowdata

import "fmt"

// Verify levels of a delivery to a file (the --verify flag, "verify" in
// input files and schedules).
const (
	// VerifyCheap (the default, also "") checks what costs no second read
	// of the data: the file's size and identity, and each part's hash as
	// it was written (re-reading only parts written before the host
	// restarted).
	VerifyCheap = "cheap"
	// VerifyFull re-reads the whole file from disk before it is published
	// and checks its tree hash or SHA-256 against the source's.
	VerifyFull = "full"
)

// CheckVerify validates a verify level ("" is VerifyCheap).
func CheckVerify(v string) error {
	switch v {
	case "", VerifyCheap, VerifyFull:
		return nil
	}
	return fmt.Errorf("verify %q: want %q or %q", v, VerifyCheap, VerifyFull)
}
