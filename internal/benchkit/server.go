package benchkit

import (
	"context"
	"log/slog"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/vigilops/vigil/internal/devserver"
	"github.com/vigilops/vigil/workflows"
)

// Server is an embedded Temporal server (the one `worker --dev` runs, in
// memory, no Web UI, worker controller on) with vigil's search attributes, and a client on it.
type Server struct {
	Dev    *devserver.Server
	Client client.Client
}

// StartServer starts the server; logger receives its warnings (nil
// discards). Stop it with Close.
func StartServer(ctx context.Context, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	sa := map[string]enumspb.IndexedValueType{}
	for _, n := range workflows.SearchAttributes {
		sa[n] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
	}
	// The worker controller is on for the cold-start scenario (it starts
	// workers only for queues set up with AutoScale).
	s, err := devserver.Start(ctx, devserver.Options{UIPort: -1, SearchAttributes: sa, Logger: logger, WorkerController: true})
	if err != nil {
		return nil, err
	}
	c, err := client.Dial(client.Options{HostPort: s.FrontendAddr(), Namespace: s.Namespace(),
		Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		_ = s.Stop()
		return nil, err
	}
	return &Server{Dev: s, Client: c}, nil
}

// Close closes the client and stops the server.
func (s *Server) Close() error {
	s.Client.Close()
	return s.Dev.Stop()
}
