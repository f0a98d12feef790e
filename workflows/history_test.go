package workflows

import (
	"os"
	"path/filepath"
	"testing"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
)

// recordedHistory reads a recorded history from testdata/replay, for tests
// that measure what a history holds (events per attempt, signals).
func recordedHistory(t *testing.T, name string) *historypb.History {
	t.Helper()
	f, err := os.Open(filepath.Join(replayDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hist, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return hist
}
