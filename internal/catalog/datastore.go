package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

func init() {
	Register(Kind{
		Name:            workflows.DatastoreExportFlow,
		WorkflowType:    workflows.DatastoreExportName,
		Summary:         "export a Datastore project to gs:// and report the outcome to Slack",
		AlertsOnFailure: true,
		Read: func(n *yaml.Node) (Input, error) {
			var in flowdata.DatastoreExportInput
			if err := decodeStrict(n, &in); err != nil {
				return Input{}, err
			}
			if err := in.Validate(); err != nil {
				return Input{}, err
			}
			return Input{Args: []any{in}, Target: in.Project}, nil
		},
	})
}

// decodeStrict reads a YAML/JSON input document into v by its JSON field
// names, rejecting unknown fields (a typo must not silently drop a
// setting).
func decodeStrict(n *yaml.Node, v any) error {
	var doc any
	if err := n.Decode(&doc); err != nil {
		return err
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("input: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("input: %w", err)
	}
	return nil
}
