// Command setup-namespace does for scripts/prod-topology.sh what
// deploy/compose/setup-namespace.sh does with the Temporal CLI in the
// temporalio/admin-tools image: it creates the namespace $TEMPORAL_NAMESPACE
// (default "default", retention $RETENTION, default 72h) unless it exists, then
// vigil's Keyword search attributes unless they exist. The Temporal CLI itself
// cannot be built from the Go module proxy (its module replaces a nested
// module that is not published), so this is the same two steps through the
// same APIs. Idempotent; exit 1 with one line on failure.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/vigilops/vigil/internal/tclient"
	"github.com/vigilops/vigil/workflows"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "setup-namespace:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	retention := 72 * time.Hour
	if v := os.Getenv("RETENTION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("RETENTION: %w", err)
		}
		retention = d
	}
	co, err := tclient.Load(tclient.Options{})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	// Not tclient.Dial: it checks that the namespace exists.
	c, err := client.DialContext(ctx, co)
	if err != nil {
		return fmt.Errorf("dialing %s: %w", co.HostPort, err)
	}
	defer c.Close()
	ns := co.Namespace
	_, err = c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns})
	var notFound *serviceerror.NamespaceNotFound
	switch {
	case errors.As(err, &notFound):
		_, err = c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
			Namespace: ns, WorkflowExecutionRetentionPeriod: durationpb.New(retention)})
		if err != nil {
			return fmt.Errorf("creating namespace %s: %w", ns, err)
		}
		fmt.Printf("namespace %s created (retention %s)\n", ns, retention)
	case err != nil:
		return fmt.Errorf("describing namespace %s: %w", ns, err)
	}
	have, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: ns})
	if err != nil {
		return fmt.Errorf("listing search attributes of %s: %w", ns, err)
	}
	add := map[string]enumspb.IndexedValueType{}
	for _, sa := range workflows.SearchAttributes {
		if _, ok := have.GetCustomAttributes()[sa]; ok {
			fmt.Printf("search attribute %s exists\n", sa)
			continue
		}
		add[sa] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
	}
	if len(add) > 0 {
		if _, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
			Namespace: ns, SearchAttributes: add}); err != nil {
			return fmt.Errorf("adding search attributes to %s: %w", ns, err)
		}
	}
	fmt.Printf("namespace %s ready with %v\n", ns, workflows.SearchAttributes)
	return nil
}
