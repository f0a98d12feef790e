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

// s3SweepDoc is the input document of the s3-sweep workflow:
//
//	bucket: reports-inbox
//	prefix: incoming/
//	olderThan: 5m            # optional, default 5m
//	pipeline: {name: reports, processor: {kind: none}}   # a pipeline, inline
type s3SweepDoc struct {
	Bucket    string             `yaml:"bucket"`
	Prefix    string             `yaml:"prefix"`
	OlderThan *flowdata.Duration `yaml:"olderThan"`
	Pipeline  yaml.Node          `yaml:"pipeline"`
}

func init() {
	Register(Kind{
		Name:            workflows.S3SweepFlow,
		WorkflowType:    workflows.S3SweepName,
		Summary:         "sweep an S3 prefix for objects no event announced, and process them with a pipeline",
		AlertsOnFailure: false,
		Read: func(n *yaml.Node) (Input, error) {
			d, err := strictyaml.FromNode(n, func(s3SweepDoc) error { return nil })
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
