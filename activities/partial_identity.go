package activities

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"go.temporal.io/sdk/temporal"
)

// Every resumable local write gets an identity when it is prepared: a
// random token in a small file next to the partial file (IdentitySuffix),
// created with O_EXCL, mode 0600. The token travels with the workflow's
// record of the destination (Prepared.Identity); every range write and the
// finish check it, so bytes recorded as written into one file are never
// trusted in another one of the same name: a partial file re-created by a
// new worker on a fresh disk (same host name, same boot id) has no token or
// another one. Range writes never create a missing partial file.

// IdentitySuffix is appended to a partial file's name for its identity
// token file.
const IdentitySuffix = ".vigil-id"

// partialMode is the mode of partial, temporary and identity files: only
// the worker's user reads data that is not verified yet.
const partialMode fs.FileMode = 0o600

// publishedModeDefault is the mode of a published output that replaces
// no file.
const publishedModeDefault fs.FileMode = 0o644

// publishedMode is the mode an output published at dest gets: that of the
// file it replaces, or publishedModeDefault.
func publishedMode(dest string) fs.FileMode {
	if fi, err := os.Stat(dest); err == nil && fi.Mode().IsRegular() {
		return fi.Mode().Perm()
	}
	return publishedModeDefault
}

// identityBytes is the token's length before hex encoding.
const identityBytes = 16

// identityPath names the identity token file of a partial file.
func identityPath(partial string) string { return partial + IdentitySuffix }

// newIdentity gives the partial file a fresh identity: it replaces any
// token file with a new one (O_EXCL, synced) and returns the token.
func newIdentity(partial string) (string, error) {
	b := make([]byte, identityBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := hex.EncodeToString(b)
	path := identityPath(partial)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, partialMode)
	if err != nil {
		return "", err
	}
	_, err = f.WriteString(token + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	return token, nil
}

// readIdentity returns the token of a partial file ("" when it has none).
func readIdentity(partial string) (string, error) {
	b, err := os.ReadFile(identityPath(partial))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// checkIdentity fails with a DestinationReplaced error when the partial
// file's token is not want. An empty want (a destination prepared by a
// worker that kept no identity) checks nothing.
func checkIdentity(partial, want string) error {
	if want == "" {
		return nil
	}
	got, err := readIdentity(partial)
	if err != nil {
		return fmt.Errorf("destination identity: %w", err)
	}
	if got != want {
		return destinationReplaced(partial, "its identity token changed (the file was re-created, e.g. on a replaced disk)")
	}
	return nil
}

// openPartialForWrite opens an existing partial file for range writes and
// checks its identity. It never creates the file: a missing one means the
// destination was lost, and so were the ranges recorded in it. The file is
// made 0600 (partialMode), whatever mode an older worker left it with.
func openPartialForWrite(partial, identity string) (*os.File, error) {
	f, err := os.OpenFile(partial, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, destinationReplaced(partial, "it is gone")
	}
	if err != nil {
		return nil, fmt.Errorf("destination: %w", err)
	}
	if err := checkIdentity(partial, identity); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Chmod(partialMode); err != nil { // a file left 0644 by an older worker
		f.Close()
		return nil, fmt.Errorf("destination: %w", err)
	}
	return f, nil
}

// removeIdentity removes a partial file's token file (after its publish
// or abort); a missing one is no error.
func removeIdentity(partial string) error {
	_, err := removePresent(identityPath(partial))
	return err
}

// destinationReplaced is the non-retryable DestinationReplaced error for a
// partial file.
func destinationReplaced(partial, why string) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf("destination %s is not the file prepared for this run: %s; every range is downloaded again", partial, why),
		ErrTypeDestinationReplaced, nil)
}
