// Package deploy holds vigil's deployment files and the tests that check
// them without a container engine: docker-compose.yml at the repository
// root (loaded with compose-spec/compose-go), the Dockerfile, the compose
// setup scripts in deploy/compose and the minimal IAM policies in
// deploy/iam.
package deploy
