//go:build nodev

package workerapp

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/awsconf"
)

// devStack is absent from a worker built with the nodev tag: a lean
// production binary without the embedded Temporal server, Web UI and local
// cloud.
type devStack struct{}

func startDev(context.Context, Config, *slog.Logger) (*devStack, error) {
	return nil, errors.New("--dev is not available: this worker was built with the nodev tag (go build ./worker without -tags nodev has it)")
}

func (*devStack) endpoints() (address, namespace, uiURL, cloudURL string) { return "", "", "", "" }

func (*devStack) installFixtures(context.Context, client.Client, *awsconf.Clients, string, *slog.Logger) []DemoArchive {
	return nil
}

func (*devStack) getenv(string) string { return "" }

func (*devStack) cacheURL() string { return "" }

func (*devStack) stop(*slog.Logger) {}

func printBanner(io.Writer, Endpoints, Config) {}

func (*devStack) datastoreAddr() string { return "" }

func (*devStack) scaleQueueName() string { return "" }
