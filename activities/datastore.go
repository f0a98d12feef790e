package activities

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"

	admin "cloud.google.com/go/datastore/admin/apiv1"
	"cloud.google.com/go/datastore/admin/apiv1/adminpb"
	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"

	"github.com/vigilops/vigil/workflows/flowdata"
)

// DatastoreAdminAPI is the part of *admin.DatastoreAdminClient vigil uses:
// the admin RPCs and the google.longrunning operations it serves on the
// same connection.
type DatastoreAdminAPI interface {
	ExportEntities(context.Context, *adminpb.ExportEntitiesRequest, ...gax.CallOption) (*admin.ExportEntitiesOperation, error)
	ImportEntities(context.Context, *adminpb.ImportEntitiesRequest, ...gax.CallOption) (*admin.ImportEntitiesOperation, error)
	GetOperation(context.Context, *longrunningpb.GetOperationRequest, ...gax.CallOption) (*longrunningpb.Operation, error)
	ListOperations(context.Context, *longrunningpb.ListOperationsRequest, ...gax.CallOption) *admin.OperationIterator
	CancelOperation(context.Context, *longrunningpb.CancelOperationRequest, ...gax.CallOption) error
}

// Datastore holds the activities that drive Datastore Admin exports and
// imports. None of them waits: the workflow polls GetOperation on timers.
type Datastore struct {
	// Client is the admin client; when nil, Dial builds it on first use
	// (the worker starts without GCP reachable).
	Client DatastoreAdminAPI
	// Dial builds the client.
	Dial func(context.Context) (DatastoreAdminAPI, error)
	// Slack posts the reports.
	Slack *Slack

	mu sync.Mutex
}

// client returns the admin client, dialling it once.
func (a *Datastore) client(ctx context.Context) (DatastoreAdminAPI, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.Client != nil {
		return a.Client, nil
	}
	if a.Dial == nil {
		return nil, ConfigError("datastore: no admin client configured on this worker")
	}
	c, err := a.Dial(ctx)
	if err != nil {
		return nil, ConfigError("datastore: %v", err)
	}
	a.Client = c
	return c, nil
}

// DatastoreStartInput starts an export or an import.
type DatastoreStartInput struct {
	Project string `json:"project"`
	// RunID goes into the vigil-run label: a retried start adopts the
	// operation carrying it instead of starting a second one.
	RunID string `json:"runId"`
	// OutputURLPrefix of an export.
	OutputURLPrefix string `json:"outputUrlPrefix,omitempty"`
	// InputURL of an import.
	InputURL   string            `json:"inputUrl,omitempty"`
	Kinds      []string          `json:"kinds,omitempty"`
	Namespaces []string          `json:"namespaces,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
}

func (in DatastoreStartInput) labels() map[string]string {
	l := maps.Clone(in.Labels)
	if l == nil {
		l = map[string]string{}
	}
	l[flowdata.DatastoreRunLabel] = in.RunID
	return l
}

func (in DatastoreStartInput) filter() *adminpb.EntityFilter {
	return &adminpb.EntityFilter{Kinds: in.Kinds, NamespaceIds: in.Namespaces}
}

// StartExport starts the export exactly once per run: it first looks for
// an export labelled with this run (an earlier attempt that started one
// and then failed to report it) and adopts it.
func (a *Datastore) StartExport(ctx context.Context, in DatastoreStartInput) (flowdata.DatastoreOp, error) {
	return a.start(ctx, in, adminpb.OperationType_EXPORT_ENTITIES, func(c DatastoreAdminAPI) (string, error) {
		op, err := c.ExportEntities(ctx, &adminpb.ExportEntitiesRequest{ProjectId: in.Project, Labels: in.labels(),
			EntityFilter: in.filter(), OutputUrlPrefix: in.OutputURLPrefix})
		if err != nil {
			return "", err
		}
		return op.Name(), nil
	})
}

// StartImport starts the import exactly once per run, as StartExport.
func (a *Datastore) StartImport(ctx context.Context, in DatastoreStartInput) (flowdata.DatastoreOp, error) {
	return a.start(ctx, in, adminpb.OperationType_IMPORT_ENTITIES, func(c DatastoreAdminAPI) (string, error) {
		op, err := c.ImportEntities(ctx, &adminpb.ImportEntitiesRequest{ProjectId: in.Project, Labels: in.labels(),
			EntityFilter: in.filter(), InputUrl: in.InputURL})
		if err != nil {
			return "", err
		}
		return op.Name(), nil
	})
}

// start adopts this run's operation of the given type or starts one, then
// reads it back once.
func (a *Datastore) start(ctx context.Context, in DatastoreStartInput, typ adminpb.OperationType, call func(DatastoreAdminAPI) (string, error)) (flowdata.DatastoreOp, error) {
	if in.RunID == "" {
		return flowdata.DatastoreOp{}, BadInput("datastore: a start needs the run id for its label")
	}
	c, err := a.client(ctx)
	if err != nil {
		return flowdata.DatastoreOp{}, err
	}
	what := "Datastore " + typ.String() + " " + in.Project
	if op, ok, err := findRunOperation(ctx, c, in.Project, in.RunID, typ); err != nil || ok {
		op.Adopted = ok
		return op, ClassifyGRPC(what+" (looking for this run's operation)", err)
	}
	name, err := call(c)
	if err != nil {
		return flowdata.DatastoreOp{}, ClassifyGRPC(what, err)
	}
	raw, err := c.GetOperation(ctx, &longrunningpb.GetOperationRequest{Name: name})
	if err != nil {
		// Started: the name is enough, the workflow's next poll reads it.
		return flowdata.DatastoreOp{Name: name, Type: typ.String(), State: flowdata.DatastoreInitializing}, nil
	}
	return OperationSnapshot(raw)
}

// findRunOperation lists the project's operations labelled with runID.
func findRunOperation(ctx context.Context, c DatastoreAdminAPI, project, runID string, typ adminpb.OperationType) (flowdata.DatastoreOp, bool, error) {
	it := c.ListOperations(ctx, &longrunningpb.ListOperationsRequest{Name: "projects/" + project,
		Filter: fmt.Sprintf("labels.%s=%s", flowdata.DatastoreRunLabel, runID)})
	for {
		raw, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return flowdata.DatastoreOp{}, false, nil
		}
		if err != nil {
			return flowdata.DatastoreOp{}, false, err
		}
		op, err := OperationSnapshot(raw)
		if err != nil {
			continue // not an admin operation
		}
		// The filter is not trusted to be exact: check the label.
		if op.Labels[flowdata.DatastoreRunLabel] == runID && op.Type == typ.String() {
			return op, true, nil
		}
	}
}

// GetOperation reads the operation's state once (never waits).
func (a *Datastore) GetOperation(ctx context.Context, name string) (flowdata.DatastoreOp, error) {
	c, err := a.client(ctx)
	if err != nil {
		return flowdata.DatastoreOp{}, err
	}
	raw, err := c.GetOperation(ctx, &longrunningpb.GetOperationRequest{Name: name})
	if err != nil {
		return flowdata.DatastoreOp{}, ClassifyGRPC("Datastore GetOperation "+name, err)
	}
	return OperationSnapshot(raw)
}

// DatastoreCancelInput names the operation to cancel: by name, or (when a
// run was cancelled before its start reported one) by the run's label.
type DatastoreCancelInput struct {
	Name    string `json:"name,omitempty"`
	Project string `json:"project,omitempty"`
	RunID   string `json:"runId,omitempty"`
}

// CancelOperation asks for the operation's cancellation. An operation that
// is already done (FAILED_PRECONDITION) or gone (NOT_FOUND), or no
// operation for the run, needs nothing.
func (a *Datastore) CancelOperation(ctx context.Context, in DatastoreCancelInput) error {
	c, err := a.client(ctx)
	if err != nil {
		return err
	}
	name := in.Name
	if name == "" {
		for _, typ := range []adminpb.OperationType{adminpb.OperationType_EXPORT_ENTITIES, adminpb.OperationType_IMPORT_ENTITIES} {
			op, ok, err := findRunOperation(ctx, c, in.Project, in.RunID, typ)
			if err != nil {
				return ClassifyGRPC("Datastore ListOperations "+in.Project, err)
			}
			if ok {
				name = op.Name
			}
		}
		if name == "" {
			return nil
		}
	}
	err = c.CancelOperation(ctx, &longrunningpb.CancelOperationRequest{Name: name})
	switch GRPCCode(err) {
	case codes.OK, codes.FailedPrecondition, codes.NotFound:
		return nil
	}
	return ClassifyGRPC("Datastore CancelOperation "+name, err)
}

// ListOperations lists a project's export and import operations, oldest
// first (the starter's `datastore operations`).
func ListOperations(ctx context.Context, c DatastoreAdminAPI, project, filter string) ([]flowdata.DatastoreOp, error) {
	it := c.ListOperations(ctx, &longrunningpb.ListOperationsRequest{Name: "projects/" + project, Filter: filter})
	var out []flowdata.DatastoreOp
	for {
		raw, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return out, nil
		}
		if err != nil {
			return out, ClassifyGRPC("Datastore ListOperations "+project, err)
		}
		if op, err := OperationSnapshot(raw); err == nil {
			out = append(out, op)
		}
	}
}
