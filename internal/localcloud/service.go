// Package localcloud serves vigil's local cloud: emulators of the AWS and GCP
// APIs vigil uses, all on one HTTP endpoint (LocalStack's port 4566 by
// default) and routed by protocol. Each emulator lives in its own package
// and is registered in one place (cloud.go).
package localcloud

import "net/http"

// Service is one emulated API on the shared endpoint.
type Service interface {
	// Name is a short label for logs and the banner ("sqs", "s3", ...).
	Name() string
	// Match reports whether r is addressed to this service. Services are
	// asked in registration order; the first match serves the request.
	Match(r *http.Request) bool
	http.Handler
}
