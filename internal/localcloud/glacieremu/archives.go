package glacieremu

import (
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/vigilops/vigil/internal/treehash"
)

// PutArchive stores an archive read from r in process, as UploadArchive
// does, and returns its id and tree hash. Fixtures use it to add archives
// of any size without an HTTP round trip.
func (s *Service) PutArchive(vaultName string, r io.Reader, description string) (id, treeHash string, err error) {
	a, err := s.storeArchive(vaultName, r, description, "")
	if err != nil {
		return "", "", err
	}
	return a.ID, a.TreeHash, nil
}

// storeArchive streams r into a new archive file, computing its tree hash
// and leaves; when wantTreeHash is set it must match.
func (s *Service) storeArchive(vaultName string, r io.Reader, description, wantTreeHash string) (*archive, error) {
	s.mu.Lock()
	_, err := s.vaultLocked(vaultName)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(s.archivePath(vaultName, "x"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, ".upload-")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name()) // no-op once renamed
	h := treehash.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return s.addArchive(vaultName, f.Name(), n, h, description, wantTreeHash)
}

// addArchive checks the hash and moves a complete archive file into the
// vault.
func (s *Service) addArchive(vaultName, tmpPath string, size int64, h *treehash.Hasher, description, wantTreeHash string) (*archive, error) {
	got := h.Hex()
	if wantTreeHash != "" && wantTreeHash != got {
		return nil, errInvalid("Checksum mismatch: expected %s, computed %s", wantTreeHash, got)
	}
	leaves := h.Leaves()
	a := &archive{ID: newID(138), Description: description, CreationDate: isoTime(s.now()), Size: size, TreeHash: got,
		Leaves: make([]string, len(leaves))}
	for i, l := range leaves {
		a.Leaves[i] = hex.EncodeToString(l)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.vaultLocked(vaultName)
	if err != nil {
		return nil, err
	}
	if err := os.Rename(tmpPath, s.archivePath(vaultName, a.ID)); err != nil {
		return nil, err
	}
	v.Archives[a.ID] = a
	v.ArchiveOrder = append(v.ArchiveOrder, a.ID)
	s.saveLocked()
	return a, nil
}

// uploadArchive is UploadArchive: the body is the archive.
func (s *Service) uploadArchive(w http.ResponseWriter, r *http.Request, vaultName string) error {
	a, err := s.storeArchive(vaultName, r.Body, r.Header.Get("X-Amz-Archive-Description"), r.Header.Get("X-Amz-Sha256-Tree-Hash"))
	if err != nil {
		return err
	}
	s.archiveCreated(w, vaultName, a)
	return nil
}

// archiveCreated answers an upload with the new archive's headers.
func (s *Service) archiveCreated(w http.ResponseWriter, vaultName string, a *archive) {
	w.Header().Set("X-Amz-Archive-Id", a.ID)
	w.Header().Set("X-Amz-Sha256-Tree-Hash", a.TreeHash)
	w.Header().Set("Location", "/"+s.opts.AccountID+"/vaults/"+vaultName+"/archives/"+a.ID)
	w.WriteHeader(http.StatusCreated)
}

// deleteArchive is DeleteArchive.
func (s *Service) deleteArchive(w http.ResponseWriter, vaultName, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.vaultLocked(vaultName)
	if err != nil {
		return err
	}
	if v.Archives[id] == nil {
		return errNotFound("Archive not found: %s", id)
	}
	delete(v.Archives, id)
	for i, a := range v.ArchiveOrder {
		if a == id {
			v.ArchiveOrder = append(v.ArchiveOrder[:i], v.ArchiveOrder[i+1:]...)
			break
		}
	}
	if err := os.Remove(s.archivePath(vaultName, id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Warn("glacier: removing archive file", "error", err)
	}
	s.saveLocked()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ArchiveInfo describes a stored archive.
type ArchiveInfo struct {
	ID, Description, TreeHash string
	Size                      int64
}

// Archives lists a vault's archives in upload order.
func (s *Service) Archives(vaultName string) ([]ArchiveInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.vaultLocked(vaultName)
	if err != nil {
		return nil, err
	}
	out := make([]ArchiveInfo, 0, len(v.ArchiveOrder))
	for _, id := range v.ArchiveOrder {
		a := v.Archives[id]
		out = append(out, ArchiveInfo{ID: a.ID, Description: a.Description, TreeHash: a.TreeHash, Size: a.Size})
	}
	return out, nil
}
