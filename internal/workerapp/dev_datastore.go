//go:build !nodev

package workerapp

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/devserver"
	"github.com/vigilops/vigil/internal/localcloud/dsemu"
)

// devDatastoreSlowDuration is how long a "slow" export takes in --dev: past
// the banner's one-minute deadline (an orange report), short enough that
// the export still succeeds while one watches.
const devDatastoreSlowDuration = 90 * time.Second

// startDatastore serves the Datastore Admin emulator on port (0: a free
// one) and points the worker's admin client at it. The emulator keeps its
// operations in --data-dir/datastore, so an export polled across a restart
// of the stack finds its operation again.
func (s *devStack) startDatastore(host string, port int, logger *slog.Logger) error {
	if port != 0 {
		if err := devserver.CheckPortFree(host, port); err != nil {
			return err
		}
	}
	l, err := dsemu.Listen(net.JoinHostPort(host, strconv.Itoa(port)), dsemu.Options{
		Logger: logger.With("component", "datastore"), SlowDuration: devDatastoreSlowDuration,
		DataDir: filepath.Join(s.dataDir, "datastore"),
	})
	if err != nil {
		return err
	}
	s.datastore = l
	s.env[activities.DatastoreEndpointEnv] = l.Addr()
	s.env[activities.DatastoreProjectEnv] = DemoDatastoreProject
	return nil
}

// printDatastoreCommands shows exports to try: one green, one red, one orange.
func printDatastoreCommands(out io.Writer, ep Endpoints) {
	fmt.Fprintf(out, `
Datastore exports of the emulator's %[1]s (a green report reaches the Slack sink in ~25 s; labels pick red or orange; a slow export takes %[8]s here):
  export %[2]s=%[3]s
  go run ./starter datastore export --project %[1]s --to gs://%[4]s/manual --wait
  go run ./starter datastore export --project %[1]s --to gs://%[4]s/red --label %[5]s=%[6]s --wait
  go run ./starter datastore export --project %[1]s --to gs://%[4]s/orange --label %[5]s=%[7]s --deadline 1m --wait
`, DemoDatastoreProject, activities.DatastoreEndpointEnv, ep.DatastoreAddr, DemoDatastoreBucket, dsemu.LabelOutcome, dsemu.OutcomeFail, dsemu.OutcomeSlow, devDatastoreSlowDuration)
}
