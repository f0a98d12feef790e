// Package e2e holds end-to-end tests of vigil's flows: the embedded
// Temporal server (temporaltest), the local cloud with the real AWS SDK
// clients, and a real worker with the notification router.
package e2e
