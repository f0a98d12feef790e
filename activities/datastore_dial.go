package activities

import (
	"context"

	admin "cloud.google.com/go/datastore/admin/apiv1"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Worker environment variables of the Datastore flows.
const (
	// DatastoreEndpointEnv points the admin client at an emulator
	// (host:port, plaintext, no credentials); unset means the real API
	// with Application Default Credentials.
	DatastoreEndpointEnv = "VIGIL_DATASTORE_ENDPOINT"
	// DatastoreProjectEnv is the default project of the starter.
	DatastoreProjectEnv = "GOOGLE_CLOUD_PROJECT"
)

// DialDatastoreAdmin builds the admin client: against the emulator at
// endpoint without authentication, or (endpoint "") the real service with
// Application Default Credentials.
func DialDatastoreAdmin(ctx context.Context, endpoint string) (*admin.DatastoreAdminClient, error) {
	if endpoint == "" {
		return admin.NewDatastoreAdminClient(ctx)
	}
	return admin.NewDatastoreAdminClient(ctx, option.WithEndpoint(endpoint), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
}
