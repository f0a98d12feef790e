package glacieremu

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/vigilops/vigil/internal/treehash"
)

// upload is a multipart upload in progress: parts are written at their
// offsets into one file. Uploads are not persisted.
type upload struct {
	vault, description string
	partSize           int64
	path               string
	mu                 sync.RWMutex // parts write in parallel (R); completion is exclusive
}

func (s *Service) initiateUpload(w http.ResponseWriter, r *http.Request, vaultName string) error {
	ps, err := strconv.ParseInt(r.Header.Get("X-Amz-Part-Size"), 10, 64)
	if err != nil || ps < treehash.ChunkSize || ps > 4<<30 || ps&(ps-1) != 0 {
		return errInvalid("Invalid part size: %q (a power of two from 1 MiB to 4 GiB)", r.Header.Get("X-Amz-Part-Size"))
	}
	s.mu.Lock()
	_, err = s.vaultLocked(vaultName)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	dir := filepath.Dir(s.archivePath(vaultName, "x"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".multipart-")
	if err != nil {
		return err
	}
	f.Close()
	id := newID(92)
	s.mu.Lock()
	s.uploads[id] = &upload{vault: vaultName, description: r.Header.Get("X-Amz-Archive-Description"), partSize: ps, path: f.Name()}
	s.mu.Unlock()
	w.Header().Set("X-Amz-Multipart-Upload-Id", id)
	w.Header().Set("Location", "/"+s.opts.AccountID+"/vaults/"+vaultName+"/multipart-uploads/"+id)
	w.WriteHeader(http.StatusCreated)
	return nil
}

// upload finds an upload of the vault.
func (s *Service) upload(vaultName, id string) (*upload, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.uploads[id]
	if u == nil || u.vault != vaultName {
		return nil, errNotFound("Multipart upload not found: %s", id)
	}
	return u, nil
}

func (s *Service) uploadPart(w http.ResponseWriter, r *http.Request, vaultName, id string) error {
	u, err := s.upload(vaultName, id)
	if err != nil {
		return err
	}
	var start, end int64
	if _, err := fmt.Sscanf(r.Header.Get("Content-Range"), "bytes %d-%d/*", &start, &end); err != nil || end < start {
		return errInvalid("Content-Range %q: want bytes start-end/*", r.Header.Get("Content-Range"))
	}
	if start%u.partSize != 0 || end-start+1 > u.partSize {
		return errInvalid("Content-Range %q does not match the part size %d", r.Header.Get("Content-Range"), u.partSize)
	}
	u.mu.RLock()
	defer u.mu.RUnlock()
	f, err := os.OpenFile(u.path, os.O_WRONLY, 0)
	if err != nil {
		return errNotFound("Multipart upload not found: %s", id)
	}
	defer f.Close()
	h := treehash.New()
	n, err := io.Copy(io.MultiWriter(io.NewOffsetWriter(f, start), h), r.Body)
	if err != nil {
		return err
	}
	if n != end-start+1 {
		return errInvalid("part has %d bytes, Content-Range says %d", n, end-start+1)
	}
	if want := r.Header.Get("X-Amz-Sha256-Tree-Hash"); want != "" && want != h.Hex() {
		return errInvalid("Checksum mismatch: expected %s, computed %s", want, h.Hex())
	}
	w.Header().Set("X-Amz-Sha256-Tree-Hash", h.Hex())
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Service) completeUpload(w http.ResponseWriter, r *http.Request, vaultName, id string) error {
	u, err := s.upload(vaultName, id)
	if err != nil {
		return err
	}
	size, err := strconv.ParseInt(r.Header.Get("X-Amz-Archive-Size"), 10, 64)
	if err != nil || size < 0 {
		return errMissing("x-amz-archive-size %q", r.Header.Get("X-Amz-Archive-Size"))
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	f, err := os.Open(u.path)
	if err != nil {
		return errNotFound("Multipart upload not found: %s", id)
	}
	h := treehash.New()
	n, err := io.Copy(h, f)
	f.Close()
	if err != nil {
		return err
	}
	if n != size {
		return errInvalid("archive size %d does not match the %d bytes uploaded", size, n)
	}
	a, err := s.addArchive(vaultName, u.path, n, h, u.description, r.Header.Get("X-Amz-Sha256-Tree-Hash"))
	if err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.uploads, id)
	s.mu.Unlock()
	s.archiveCreated(w, vaultName, a)
	return nil
}

func (s *Service) abortUpload(w http.ResponseWriter, vaultName, id string) error {
	u, err := s.upload(vaultName, id)
	if err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.uploads, id)
	s.mu.Unlock()
	_ = os.Remove(u.path)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
