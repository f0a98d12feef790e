package dsemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"cloud.google.com/go/datastore/admin/apiv1/adminpb"
)

// stateFile is the file under Options.DataDir holding the operations.
const stateFile = "operations.json"

// savedState is the JSON form of the emulator's operations.
type savedState struct {
	Seq        int              `json:"seq"`
	Operations []savedOperation `json:"operations"`
	// Exported maps an export's output URL to its entity count.
	Exported map[string]int64 `json:"exported,omitempty"`
}

// savedOperation is the JSON form of one operation. Times are absolute,
// so a restarted emulator reports the progress it would have reported
// had it kept running.
type savedOperation struct {
	Name       string            `json:"name"`
	Project    string            `json:"project"`
	Seq        int               `json:"seq"`
	Kind       string            `json:"kind"`
	Start      time.Time         `json:"start"`
	Duration   time.Duration     `json:"duration"`
	Fail       bool              `json:"fail,omitempty"`
	Cancelled  time.Time         `json:"cancelled,omitzero"`
	Labels     map[string]string `json:"labels,omitempty"`
	Kinds      []string          `json:"kinds,omitempty"`
	Namespaces []string          `json:"namespaces,omitempty"`
	Prefix     string            `json:"prefix,omitempty"`
	OutputURL  string            `json:"outputUrl,omitempty"`
	InputURL   string            `json:"inputUrl,omitempty"`
	Entities   int64             `json:"entities"`
}

// statePath is the state file, or "" when the emulator keeps memory only.
func (s *Server) statePath() string {
	if s.opts.DataDir == "" {
		return ""
	}
	return filepath.Join(s.opts.DataDir, stateFile)
}

// load reads the state file if there is one.
func (s *Server) load() error {
	path := s.statePath()
	if path == "" {
		return nil
	}
	if err := os.MkdirAll(s.opts.DataDir, 0o755); err != nil {
		return fmt.Errorf("datastore emulator: %w", err)
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("datastore emulator: %w", err)
	}
	var st savedState
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("datastore emulator state %s: %w", path, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq = st.Seq
	for k, v := range st.Exported {
		s.exported[k] = v
	}
	for _, o := range st.Operations {
		kind, ok := adminpb.OperationType_value[o.Kind]
		if !ok {
			return fmt.Errorf("datastore emulator state %s: operation %s has unknown kind %q", path, o.Name, o.Kind)
		}
		labels := o.Labels
		if labels == nil {
			labels = map[string]string{}
		}
		s.ops[o.Name] = &operation{
			name: o.Name, project: o.Project, seq: o.Seq, kind: adminpb.OperationType(kind),
			start: o.Start, duration: o.Duration, fail: o.Fail, cancelled: o.Cancelled, labels: labels,
			filter: &adminpb.EntityFilter{Kinds: o.Kinds, NamespaceIds: o.Namespaces},
			prefix: o.Prefix, outputURL: o.OutputURL, inputURL: o.InputURL, entities: o.Entities,
		}
		s.seq = max(s.seq, o.Seq)
	}
	return nil
}

// saveLocked writes the state file (temporary file, then rename); s.mu is
// held. An error is logged: the emulator keeps serving from memory.
func (s *Server) saveLocked() {
	path := s.statePath()
	if path == "" {
		return
	}
	st := savedState{Seq: s.seq, Operations: make([]savedOperation, 0, len(s.ops)), Exported: s.exported}
	for _, op := range s.ops {
		st.Operations = append(st.Operations, savedOperation{
			Name: op.name, Project: op.project, Seq: op.seq, Kind: op.kind.String(),
			Start: op.start, Duration: op.duration, Fail: op.fail, Cancelled: op.cancelled, Labels: op.labels,
			Kinds: op.filter.GetKinds(), Namespaces: op.filter.GetNamespaceIds(),
			Prefix: op.prefix, OutputURL: op.outputURL, InputURL: op.inputURL, Entities: op.entities,
		})
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err == nil {
		tmp := path + ".tmp"
		if err = os.WriteFile(tmp, b, 0o644); err == nil {
			err = os.Rename(tmp, path)
		}
	}
	if err != nil {
		s.opts.Logger.Error("datastore emulator state not saved", "path", path, "error", err)
	}
}
