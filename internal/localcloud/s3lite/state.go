package s3lite

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// stateFile, in DataDir beside gofakes3's buckets/ and metadata/, keeps
// restores and notification configurations.
const stateFile = "s3lite-state.json"

// state is the content of stateFile.
type state struct {
	Restores      map[string]*restoreState              `json:"restores"`
	Notifications map[string]*notificationConfiguration `json:"notifications"`
}

// load reads the state file, drops expired restores and re-arms pending
// ones (those due complete at once).
func (s *Service) load() error {
	if s.statePath == "" {
		return nil
	}
	b, err := os.ReadFile(s.statePath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("S3 state %s: %w", s.statePath, err)
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for ref, r := range st.Restores {
		if !r.active(now) {
			continue
		}
		s.restores[ref] = r
		if !r.Done {
			s.armLocked(ref, r, now)
		}
	}
	for bucket, c := range st.Notifications {
		s.notifs[bucket] = c
	}
	return nil
}

// saveLocked writes the state file (atomically); errors are logged.
func (s *Service) saveLocked() {
	if s.statePath == "" {
		return
	}
	b, err := json.MarshalIndent(state{Restores: s.restores, Notifications: s.notifs}, "", "  ")
	if err == nil {
		tmp := s.statePath + ".tmp"
		if err = os.WriteFile(tmp, b, 0o644); err == nil {
			err = os.Rename(tmp, s.statePath)
		}
	}
	if err != nil {
		s.log.Error("S3 state not saved", "path", s.statePath, "error", err)
	}
}
