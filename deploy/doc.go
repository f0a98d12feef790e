// Package deploy holds vigil's deployment files and the tests that check
// them without a container engine: docker-compose.yml at the repository
// root (loaded with compose-spec/compose-go), the Dockerfile, the compose
// setup scripts in deploy/compose, the minimal IAM policies in deploy/iam,
// and the Kubernetes manifests in deploy/k8s (checked against the JSON
// Schemas in deploy/testdata/k8s).
package deploy
