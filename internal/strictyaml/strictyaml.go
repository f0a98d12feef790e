// Package strictyaml reads vigil's input documents (job files, pipeline
// files): YAML or JSON (JSON is YAML), decoded strictly, so an unknown or
// misspelt key is an error, then validated.
package strictyaml

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Parse decodes b into a T, refusing unknown keys, and validates it. The
// error drops the decoder's "yaml: " prefix.
func Parse[T any](b []byte, validate func(T) error) (T, error) {
	var v T
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&v); err != nil {
		return v, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return v, validate(v)
}

// ReadFile reads the file at path and parses it like Parse; errors name
// the file as "<what> file <name>".
func ReadFile[T any](path, what string, validate func(T) error) (T, error) {
	var zero T
	b, err := os.ReadFile(path)
	if err != nil {
		return zero, fmt.Errorf("%s file: %w", what, err)
	}
	v, err := Parse(b, validate)
	if err != nil {
		return zero, fmt.Errorf("%s file %s: %w", what, filepath.Base(path), err)
	}
	return v, nil
}

// FromNode parses an already-decoded YAML node (an inline document in a
// schedules file) like Parse.
func FromNode[T any](n *yaml.Node, validate func(T) error) (T, error) {
	b, err := yaml.Marshal(n)
	if err != nil {
		var zero T
		return zero, err
	}
	return Parse(b, validate)
}
