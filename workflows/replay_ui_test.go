package workflows

import (
	"context"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/vigilops/vigil/workflows/flowdata"
)

// Replay histories of the Web UI attributes: a Glacier retrieval of a
// 138-character archive id that records it (archiveAttrsChange), and the
// bookkeeping workflows that set VigilInternal (internalChange), each a
// rerun of an earlier case's recording under a new file.
func init() {
	archive := strings.Repeat("kKB7ymWJVpPS", 12)[:138]
	replayCases = append(replayCases, replayCase{file: "glacier-v5-archive-attributes.json", name: GlacierRetrieveName, workflow: GlacierRetrieveWorkflow,
		register: func(w worker.Worker) { registerGlacierStubs(w, glacierStubs{}) },
		start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
			return c.ExecuteWorkflow(ctx, o, GlacierRetrieveName, GlacierRetrieveInput{Vault: "v", ArchiveID: archive,
				Destination: "s3://out/x", PollInterval: flowdata.Duration(100 * time.Millisecond)})
		}})
	for _, c := range []struct{ from, to string }{
		{"schedwatch.json", "schedwatch-v1-internal.json"},
		{"routerqueues.json", "routerqueues-v1-internal.json"},
		{"s3bindings.json", "s3bindings-v1-internal.json"},
	} {
		for _, tc := range replayCases {
			if tc.file == c.from {
				tc.file = c.to
				replayCases = append(replayCases, tc)
				break
			}
		}
	}
}
