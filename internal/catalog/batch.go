package catalog

import (
	"go.yaml.in/yaml/v3"

	"github.com/vigilops/vigil/internal/jobspec"
	"github.com/vigilops/vigil/workflows"
)

func init() {
	Register(Kind{
		Name:            workflows.BatchFlow,
		WorkflowType:    workflows.BatchJobName,
		Summary:         "run a batch job (http, exec, s3-put, sqs-send) from a job spec",
		AlertsOnFailure: true,
		Read: func(n *yaml.Node) (Input, error) {
			job, err := jobspec.FromNode(n)
			if err != nil {
				return Input{}, err
			}
			return Input{Args: []any{workflows.BatchJobInput{Job: job}}, Target: job.Name}, nil
		},
	})
}
