package catalog

import (
	"go.yaml.in/yaml/v3"

	"github.com/vigilops/vigil/internal/strictyaml"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// The restore kind's input document is flowdata.RestoreInput, the input of
// `starter backup restore` (examples/restore-drill.yaml;
// schemas/restore.schema.json is generated from it), checked by
// ValidateRestore like the verb's flags. A schedule cannot check the auth
// env vars here: the worker that runs it has its own environment.
func init() {
	Register(Kind{
		Name:            workflows.RestoreFlow,
		WorkflowType:    workflows.RestoreName,
		Summary:         "restore a backup to a file, a directory or an http endpoint, checking its SHA-256 (a restore drill)",
		AlertsOnFailure: true,
		Read: func(n *yaml.Node) (Input, error) {
			in, err := strictyaml.FromNode(n, func(in flowdata.RestoreInput) error { return ValidateRestore(in, nil) })
			if err != nil {
				return Input{}, err
			}
			return Input{Args: []any{in}, Target: in.From}, nil
		},
	})
}
