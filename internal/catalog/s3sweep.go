package catalog

import (
	"errors"
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/internal/pipeline"
	"github.com/vigilops/vigil/internal/strictyaml"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// S3SweepDoc is the input document of the s3-sweep workflow (a schedule's
// input; examples/sweep.yaml; schemas/sweep.schema.json is generated from it):
//
//	bucket: reports-inbox
//	prefix: incoming/
//	olderThan: 5m            # optional, default 5m
//	pipeline: {name: reports, processor: {kind: none}}   # a pipeline, inline
type S3SweepDoc struct {
	// Bucket to sweep.
	Bucket string `yaml:"bucket"`
	// Prefix is the incoming prefix; only it is listed.
	Prefix string `yaml:"prefix"`
	// OlderThan: younger objects are left to their S3 events; default 5m.
	OlderThan *flowdata.Duration `yaml:"olderThan,omitempty"`
	// Pipeline processes each object found, inline (the keys of a pipeline file).
	Pipeline yaml.Node `yaml:"pipeline"`
}

func init() {
	Register(Kind{
		Name:            workflows.S3SweepFlow,
		WorkflowType:    workflows.S3SweepName,
		Summary:         "sweep an S3 prefix for objects no event announced, and process them with a pipeline",
		AlertsOnFailure: true,
		Read: func(n *yaml.Node) (Input, error) {
			d, err := strictyaml.FromNode(n, func(S3SweepDoc) error { return nil })
			if err != nil {
				return Input{}, err
			}
			if err := location.ValidateBucket(d.Bucket); err != nil {
				return Input{}, fmt.Errorf("bucket: %w", err)
			}
			if err := pipeline.ValidatePrefix("prefix", d.Prefix); err != nil {
				return Input{}, err
			}
			if d.Pipeline.Kind == 0 {
				return Input{}, errors.New("pipeline: missing (an inline pipeline, see README)")
			}
			p, err := pipeline.FromNode(&d.Pipeline)
			if err != nil {
				return Input{}, fmt.Errorf("pipeline: %w", err)
			}
			in := workflows.S3SweepInput{Bucket: d.Bucket, Prefix: d.Prefix, OlderThan: d.OlderThan, Pipeline: p}
			return Input{Args: []any{in}, Target: d.Bucket + "/" + d.Prefix}, nil
		},
	})
}
