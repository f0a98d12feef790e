// Package s3bind reads and changes the bucket/prefix → pipeline bindings
// kept by the vigil/s3-bindings workflow, for the starter (bind, list,
// unbind) and the workers' routers (a cache with a short TTL).
package s3bind

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// ErrNoBinding: unbind named a binding that does not exist.
var ErrNoBinding = errors.New("no such binding")

// List returns every binding; none when the bindings workflow was never
// started.
func List(ctx context.Context, c client.Client) ([]flowdata.S3Binding, error) {
	v, err := c.QueryWorkflow(ctx, workflows.S3BindingsWorkflowID, "", workflows.BindingsQuery)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("querying %s: %w", workflows.S3BindingsWorkflowID, err)
	}
	var out []flowdata.S3Binding
	if err := v.Get(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// Bind adds or replaces the binding of b's bucket and prefix, starting the
// bindings workflow on taskQueue if needed. A binding whose input would
// lie under an output location (or whose outputs would cover another
// binding's input) is refused with ErrInputUnderOutput (CheckBinding).
func Bind(ctx context.Context, c client.Client, taskQueue string, b flowdata.S3Binding) error {
	have, err := List(ctx, c)
	if err != nil {
		return err
	}
	if err := CheckBinding(have, b); err != nil {
		return err
	}
	_, err = c.SignalWithStartWorkflow(ctx, workflows.S3BindingsWorkflowID, workflows.BindSignal, b,
		client.StartWorkflowOptions{ID: workflows.S3BindingsWorkflowID, TaskQueue: taskQueue}, workflows.S3BindingsName, []flowdata.S3Binding(nil))
	return err
}

// Unbind removes the binding of bucket and prefix; ErrNoBinding if there
// is none.
func Unbind(ctx context.Context, c client.Client, bucket, prefix string) error {
	have, err := List(ctx, c)
	if err != nil {
		return err
	}
	if _, ok := Find(have, bucket, prefix); !ok {
		return fmt.Errorf("%w for s3://%s/%s", ErrNoBinding, bucket, prefix)
	}
	return c.SignalWorkflow(ctx, workflows.S3BindingsWorkflowID, "", workflows.UnbindSignal, workflows.S3Unbind{Bucket: bucket, Prefix: prefix})
}

// Find returns the binding of exactly bucket and prefix.
func Find(bs []flowdata.S3Binding, bucket, prefix string) (flowdata.S3Binding, bool) {
	for _, b := range bs {
		if b.Bucket == bucket && b.Prefix == prefix {
			return b, true
		}
	}
	return flowdata.S3Binding{}, false
}

// DefaultTTL is how long a worker trusts its copy of the bindings.
const DefaultTTL = 10 * time.Second

// Cache is a worker's copy of the bindings, refreshed after TTL.
type Cache struct {
	Client client.Client
	// TTL; 0 means DefaultTTL.
	TTL time.Duration

	mu   sync.Mutex
	at   time.Time
	list []flowdata.S3Binding
}

// Get returns the bindings, querying the workflow when the copy is older
// than the TTL.
func (c *Cache) Get(ctx context.Context) ([]flowdata.S3Binding, error) {
	ttl := c.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return c.GetFresh(ctx, ttl)
}

// GetFresh is Get with a copy at most maxAge old (a record under no
// binding asks for a fresher copy than the TTL, once a second at most, so
// a binding made a moment ago is found).
func (c *Cache) GetFresh(ctx context.Context, maxAge time.Duration) ([]flowdata.S3Binding, error) {
	ttl := maxAge
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && time.Since(c.at) < ttl {
		return c.list, nil
	}
	list, err := List(ctx, c.Client)
	if err != nil {
		return nil, err
	}
	c.list, c.at = list, time.Now()
	return list, nil
}

// Invalidate makes the next Get query the workflow.
func (c *Cache) Invalidate() {
	c.mu.Lock()
	c.at = time.Time{}
	c.mu.Unlock()
}
