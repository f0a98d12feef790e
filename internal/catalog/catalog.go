// Package catalog lists the vigil workflows that the starter can start and
// put on schedules, with each one's input reader: the one place a flow
// registers itself for `starter schedule` and `starter run`.
package catalog

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Input is a validated workflow input, ready to start.
type Input struct {
	// Args are the workflow arguments.
	Args []any
	// Target is what the run acts on (the VigilTarget value), used in IDs.
	Target string
}

// Kind is one startable workflow.
type Kind struct {
	// Name is what users type: `--workflow batch`.
	Name string
	// WorkflowType is the registered workflow type name (a workflows.*Name
	// constant).
	WorkflowType string
	// Summary is one line for help texts.
	Summary string
	// AlertsOnFailure tells that the workflow posts its own Slack alert when
	// it fails, so a schedule watcher need not.
	AlertsOnFailure bool
	// Read turns an input document (a YAML/JSON node: inline input, or the
	// content of an input file) into validated arguments.
	Read func(n *yaml.Node) (Input, error)
}

var kinds = map[string]Kind{}

// Register adds a kind; flows call it from an init function.
func Register(k Kind) {
	if _, dup := kinds[k.Name]; dup {
		panic("catalog: duplicate kind " + k.Name)
	}
	kinds[k.Name] = k
}

// Lookup finds a kind by name; the error lists the known ones.
func Lookup(name string) (Kind, error) {
	k, ok := kinds[name]
	if !ok {
		return Kind{}, fmt.Errorf("unknown workflow %q (want one of %s)", name, strings.Join(Names(), ", "))
	}
	return k, nil
}

// Names lists the registered kinds, sorted.
func Names() []string {
	names := make([]string, 0, len(kinds))
	for n := range kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ReadInput resolves an `input:` value: a scalar is a file path (relative
// to baseDir), a mapping is the input inline.
func ReadInput(k Kind, n *yaml.Node, baseDir string) (Input, error) {
	if n == nil || n.Kind == 0 {
		return Input{}, fmt.Errorf("workflow %s needs an input", k.Name)
	}
	if n.Kind == yaml.ScalarNode {
		path := n.Value
		if !filepath.IsAbs(path) {
			path = filepath.Join(baseDir, path)
		}
		return ReadInputFile(k, path)
	}
	return k.Read(n)
}

// ReadInputFile reads a YAML or JSON input file.
func ReadInputFile(k Kind, path string) (Input, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Input{}, fmt.Errorf("input file: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return Input{}, fmt.Errorf("input file %s: %s", filepath.Base(path), strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 {
		return Input{}, fmt.Errorf("input file %s is empty", filepath.Base(path))
	}
	in, err := k.Read(doc.Content[0])
	if err != nil {
		return Input{}, fmt.Errorf("input file %s: %w", filepath.Base(path), err)
	}
	return in, nil
}
