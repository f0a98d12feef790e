package glacieremu

import (
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"

	"github.com/vigilops/vigil/internal/treehash"
)

// leafTreeHash is the tree hash of archive bytes [start, end] computed
// from the stored chunk hashes; the range must start on a chunk boundary
// and end on one or at the end of the archive.
func leafTreeHash(a *archive, start, end int64) (string, bool) {
	if start%treehash.ChunkSize != 0 || ((end+1)%treehash.ChunkSize != 0 && end != a.Size-1) {
		return "", false
	}
	first, last := start/treehash.ChunkSize, end/treehash.ChunkSize
	level := make([][]byte, 0, last-first+1)
	for _, l := range a.Leaves[first : last+1] {
		b, err := hex.DecodeString(l)
		if err != nil {
			return "", false
		}
		level = append(level, b)
	}
	return hex.EncodeToString(treehash.Combine(level)), true
}

// GetJobOutputCalls lists the ranges ("start-end", or "" for the whole
// output) of the GetJobOutput requests served for a job, in order. Tests
// use it to check that finished ranges are not fetched again.
func (s *Service) GetJobOutputCalls(jobID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls[jobID])
}

// output locates a completed job's output: an open file, the offset of the
// output in it, its size, content type and (for tree hashes of ranges)
// the archive.
type output struct {
	f           *os.File
	base, size  int64
	contentType string
	archive     *archive
	description string
}

func (s *Service) openOutput(vaultName, id string) (*output, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, err := s.jobLocked(vaultName, id)
	if err != nil {
		return nil, err
	}
	if !j.Desc.Completed || j.Desc.StatusCode != "Succeeded" {
		return nil, errInvalid("The job is not currently available for download: %s", id)
	}
	if j.Desc.Action == "InventoryRetrieval" {
		f, err := os.Open(s.inventoryPath(id))
		if err != nil {
			return nil, err
		}
		ct := "application/json"
		if j.Desc.InventoryRetrievalParameters.Format == "CSV" {
			ct = "text/csv"
		}
		return &output{f: f, size: *j.Desc.InventorySizeInBytes, contentType: ct}, nil
	}
	a := s.st.Vaults[j.Vault].Archives[*j.Desc.ArchiveID]
	if a == nil {
		return nil, errNotFound("Archive not found: %s", *j.Desc.ArchiveID)
	}
	f, err := os.Open(s.archivePath(vaultName, a.ID))
	if err != nil {
		return nil, err
	}
	return &output{f: f, base: j.Start, size: j.Size, contentType: "application/octet-stream", archive: a, description: a.Description}, nil
}

// getJobOutput is GetJobOutput, whole or with a Range header.
func (s *Service) getJobOutput(w http.ResponseWriter, r *http.Request, vaultName, id string) error {
	out, err := s.openOutput(vaultName, id)
	if err != nil {
		return err
	}
	defer out.f.Close()
	start, end := int64(0), out.size-1
	status, label := http.StatusOK, ""
	if h := r.Header.Get("Range"); h != "" {
		if _, err := fmt.Sscanf(h, "bytes=%d-%d", &start, &end); err != nil || start < 0 || end < start || start >= out.size {
			return errInvalid("Invalid Range %q for an output of %d bytes", h, out.size)
		}
		end = min(end, out.size-1)
		status, label = http.StatusPartialContent, fmt.Sprintf("%d-%d", start, end)
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, out.size))
	}
	s.mu.Lock()
	s.calls[id] = append(s.calls[id], label)
	s.mu.Unlock()
	if out.archive != nil {
		if treehash.Aligned(start, end, out.size) {
			if th, ok := leafTreeHash(out.archive, out.base+start, out.base+end); ok {
				w.Header().Set("X-Amz-Sha256-Tree-Hash", th)
			}
		}
	}
	if out.description != "" {
		w.Header().Set("X-Amz-Archive-Description", out.description)
	}
	w.Header().Set("Accept-Ranges", "bytes")
	w.Header().Set("Content-Type", out.contentType)
	w.Header().Set("Content-Length", fmt.Sprint(end-start+1))
	w.WriteHeader(status)
	if _, err := io.Copy(w, io.NewSectionReader(out.f, out.base+start, end-start+1)); err != nil {
		s.log.Debug("glacier: job output cut short", "job", id, "error", err)
	}
	return nil
}
