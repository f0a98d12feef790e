package workflows

import (
	"strings"
	"testing"
	"time"

	"github.com/vigilops/vigil/workflows/flowdata"
)

func TestCurrentDetails(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := Status{Phase: PhaseDownloading, Since: at, BytesDone: 64 << 20, BytesTotal: 256 << 20,
		Attempt: 2, LastPoll: "InProgress", LastError: "DownloadRange attempt 1: throttled\nretrying",
		Details: map[string]string{"tier": "Bulk", "jobId": "j1", "output": "https://u:p@h/x?token=s"}}
	want := "**" + PhaseDownloading + "** since 2026-01-02 03:04:05Z\n\n" +
		"- **progress**: 64.0 MiB of 256.0 MiB\n" +
		"- **attempt**: 2\n" +
		"- **last poll**: InProgress\n" +
		"- **last error**: DownloadRange attempt 1: throttled retrying\n" +
		"- **jobId**: j1\n" +
		"- **output**: https://REDACTED@h/x?token=REDACTED\n" +
		"- **tier**: Bulk"
	if got := s.CurrentDetails(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := (Status{Phase: PhaseStarting, Since: at}).CurrentDetails(); got != "**starting** since 2026-01-02 03:04:05Z" {
		t.Errorf("bare status: %q", got)
	}
}

// TestCurrentDetailsOfAWait: a waiting run says what it waits for, the
// tier's typical time, the next poll and the deadline.
func TestCurrentDetailsOfAWait(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := Status{Phase: PhaseWaiting, Since: at, Details: map[string]string{"jobId": "j1", "tier": "Bulk"},
		Waiting: &WaitInfo{For: "notification of Glacier job j1, else a poll", Typical: glacierTypical(flowdata.TierBulk),
			Next: at.Add(5 * time.Hour), Deadline: at.Add(48 * time.Hour)}}
	got := s.CurrentDetails()
	for _, want := range []string{
		"**waiting** since 2026-01-02 03:04:05Z\n\n",
		"- **waiting for**: notification of Glacier job j1, else a poll\n",
		"- **typically**: Bulk tier: typically 5-12 hours\n",
		"- **next poll**: 2026-01-02 08:04:05Z\n",
		"- **deadline**: 2026-01-04 03:04:05Z\n",
		"- **jobId**: j1\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("current details lack %q:\n%s", want, got)
		}
	}
	s.Waiting.NextIs = "attempt (3)"
	if got := s.CurrentDetails(); !strings.Contains(got, "- **next attempt (3)**: 2026-01-02 08:04:05Z") {
		t.Errorf("a retry's next attempt:\n%s", got)
	}
}
