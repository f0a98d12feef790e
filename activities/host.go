package activities

import (
	"context"
	"os"
)

// Host answers which host a worker runs on; workflows use it to pin the
// activities that touch one host's files to that host's task queue.
type Host struct {
	// Name is this worker's host name (--host); empty means DefaultHostName.
	Name string
}

// DefaultHostName is the host name a worker uses when none is configured:
// the machine's hostname ("localhost" if it has none).
func DefaultHostName() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}

// WorkerHost returns the name of the host whose worker ran it.
func (a *Host) WorkerHost(context.Context) (string, error) {
	if a.Name == "" {
		return DefaultHostName(), nil
	}
	return a.Name, nil
}

// Register registers the Host activities under their names.
func (a *Host) Register(r Registry) { register(r, map[string]any{WorkerHostName: a.WorkerHost}) }
