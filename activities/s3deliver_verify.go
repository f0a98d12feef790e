package activities

import (
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"errors"
	"hash"
	"io/fs"
	"os"
)

// Full verification of an S3 object downloaded to a file
// (DeliverObjectInput.Verify = flowdata.VerifyFull).
//
// What is compared: the SHA-256 of the bytes as they arrived over the
// network, hashed while streaming, with the SHA-256 of the bytes read back
// from disk after the partial file is synced and its cached pages dropped
// (rereadSHA256, heartbeating as it reads). A difference is damage between
// the socket and the disk (a bad write, a replaced or faulty disk, another
// process writing the file), caught before the rename.
//
// Resumes: the streaming hash survives them. Every heartbeat carries the
// SHA-256 state after DownloadProgress.Done bytes (DownloadProgress.Hash,
// the digest's binary state), recorded only after those bytes are synced,
// so a retried attempt continues the same digest from its offset and the
// final sum covers every byte each attempt received. A full-verify resume
// whose heartbeat has no usable state (a heartbeat of a worker without it)
// starts the download over rather than trust a prefix nobody hashed.
//
// Why not the object's ETag or S3 checksum instead: an ETag is the
// content's MD5 only for single-part uploads without SSE-KMS or SSE-C, and
// S3 checksums exist only for objects uploaded with one (and a composite
// one needs the part boundaries); the streamed hash works for every
// object (and resumes already stay on one version of the object: If-Match
// on its ETag). The cheap default hashes nothing and re-reads nothing.

// afterDownload runs when a download to a file is complete and synced,
// before its check and rename; tests damage the partial file here.
var afterDownload = func(partial string) {}

// newStreamHash is the hash of a download's bytes as received: resumed
// from state (a heartbeat's DownloadProgress.Hash) when it is given and
// decodes, else fresh; ok is false when state was given but unusable.
func newStreamHash(state []byte) (h hash.Hash, ok bool) {
	h = sha256.New()
	if state == nil {
		return h, true
	}
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return sha256.New(), false
	}
	return h, true
}

// streamHashState is h's state for a heartbeat (nil without a hash).
func streamHashState(h hash.Hash) []byte {
	if h == nil {
		return nil
	}
	b, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return nil
	}
	return b
}

// verifyDownload re-reads the synced partial file f from disk and checks
// its SHA-256 against the streamed hash h, heartbeating beat() (the
// download's final progress, so a retry still sees its resume state) as
// it reads. On a mismatch the partial file and its identity token are
// removed and the error is a non-retryable ChecksumMismatch.
func verifyDownload(ctx context.Context, f *os.File, partial, src string, h hash.Hash, beat func() any) error {
	want := hex.EncodeToString(h.Sum(nil))
	got, err := rereadSHA256Beat(ctx, f, beat)
	if err != nil {
		return fileError("destination", partial, err)
	}
	if got == want {
		return nil
	}
	if err := os.Remove(partial); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fileError("destination", partial, err)
	}
	if err := removeIdentity(partial); err != nil {
		return fileError("destination", partial, err)
	}
	return nonRetryable(ErrTypeChecksumMismatch, "%s: the file on disk has SHA-256 %s, the bytes received had %s (--verify full): the disk did not keep what was written; partial file removed, the next run downloads again",
		src, got, want)
}
