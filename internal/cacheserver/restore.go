package cacheserver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// RestoreOptions say where the server restores itself from at start.
type RestoreOptions struct {
	// Client reaches the Temporal server with the vigil workers.
	Client    client.Client
	TaskQueue string
	// From is the backup name's location, s3://bucket/prefix/name/.
	From string
	// SelfURL is how a worker reaches this server (http://host:port).
	SelfURL string
	// User and PasswordEnv are the basic auth the worker sends to PUT
	// /snapshot: the worker reads the password from its own environment
	// variable PasswordEnv; the password never enters the workflow.
	User, PasswordEnv string
}

// Restore runs the restore workflow into the server's own /snapshot and
// waits for it, then marks the server ready. When the backup name has no
// backup yet (MissingOK: the run succeeds without an alert) the server
// starts empty (one info line says so); any other
// failure is returned and the server stays not ready.
func (s *Server) Restore(ctx context.Context, o RestoreOptions) error {
	s.SetReady(false, "restoring from "+o.From)
	in := flowdata.RestoreInput{From: o.From, To: o.SelfURL + "/snapshot", MissingOK: true,
		Auth: &flowdata.HTTPAuth{BasicAuth: &flowdata.BasicAuth{User: o.User, PasswordEnv: o.PasswordEnv}}}
	id := workflows.RestoreWorkflowID(o.From, o.SelfURL, time.Now())
	run, err := o.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: o.TaskQueue, StaticSummary: in.StaticSummary(),
		StaticDetails: flowdata.StaticDetails(in)}, workflows.RestoreName, in)
	if err != nil {
		return fmt.Errorf("starting the restore: %w", err)
	}
	s.log.Info("restoring the cache from its latest backup", "from", o.From, "workflowId", id)
	var res flowdata.RestoreResult
	err = run.Get(ctx, &res)
	var ae *temporal.ApplicationError
	switch {
	case err == nil && res.NoBackup, errors.As(err, &ae) && ae.Type() == activities.ErrTypeNoBackup:
		// The second form: a worker of a release before MissingOK.
		s.log.Info("no backup under " + o.From + " yet: starting with an empty cache")
	case err != nil:
		return fmt.Errorf("restore %s failed: %w", id, err)
	default:
		s.log.Info("cache restored", "key", res.Key, "bytes", res.Bytes, "sha256", res.SHA256)
	}
	s.SetReady(true, "")
	return nil
}
