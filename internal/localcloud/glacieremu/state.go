package glacieremu

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
)

// state is everything that survives a restart, saved as one JSON file.
type state struct {
	Vaults map[string]*vault `json:"vaults"`
	Jobs   map[string]*job   `json:"jobs"`
	// JobOrder lists job ids in creation order (ListJobs pages by it).
	JobOrder []string `json:"jobOrder"`
}

// vault is one vault with its archives and notification configuration.
type vault struct {
	Name         string              `json:"name"`
	CreationDate string              `json:"creationDate"`
	Archives     map[string]*archive `json:"archives"`
	// ArchiveOrder lists archive ids in upload order (inventory order).
	ArchiveOrder  []string            `json:"archiveOrder"`
	Notifications *notificationConfig `json:"notifications,omitempty"`
}

// archive is an archive's metadata; its bytes are a file in the store.
type archive struct {
	ID           string `json:"id"`
	Description  string `json:"description"`
	CreationDate string `json:"creationDate"`
	Size         int64  `json:"size"`
	TreeHash     string `json:"treeHash"`
	// Leaves are the hex SHA-256 hashes of the archive's 1 MiB chunks, so
	// the tree hash of any aligned range is computed without reading it.
	Leaves []string `json:"leaves"`
}

// notificationConfig is a vault's notification configuration.
type notificationConfig struct {
	SNSTopic string   `json:"SNSTopic"`
	Events   []string `json:"Events"`
}

const stateFile = "state.json"

// load reads the state file, if any.
func (s *Service) load() error {
	s.st = state{Vaults: map[string]*vault{}, Jobs: map[string]*job{}}
	b, err := os.ReadFile(filepath.Join(s.dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &s.st); err != nil {
		return err
	}
	if s.st.Vaults == nil {
		s.st.Vaults = map[string]*vault{}
	}
	if s.st.Jobs == nil {
		s.st.Jobs = map[string]*job{}
	}
	return nil
}

// saveLocked writes the state file atomically; s.mu is held.
func (s *Service) saveLocked() {
	b, err := json.Marshal(&s.st)
	if err == nil {
		tmp := filepath.Join(s.dir, stateFile+".tmp")
		if err = os.WriteFile(tmp, b, 0o644); err == nil {
			err = os.Rename(tmp, filepath.Join(s.dir, stateFile))
		}
	}
	if err != nil {
		s.log.Error("glacier: saving state", "error", err)
	}
}

// archivePath is where an archive's bytes live.
func (s *Service) archivePath(vaultName, id string) string {
	return filepath.Join(s.dir, "archives", vaultName, id)
}
