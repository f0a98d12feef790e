package workflows

import (
	"testing"
	"time"
)

func TestCurrentDetails(t *testing.T) {
	s := Status{Phase: PhaseWaiting, Since: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), BytesDone: 64 << 20, BytesTotal: 256 << 20,
		Attempt: 2, LastPoll: "InProgress", LastError: "throttled"}
	want := "**" + PhaseWaiting + "** since 2026-01-02 03:04:05Z · 64.0 MiB of 256.0 MiB · attempt 2 · last poll: InProgress · error: throttled"
	if got := s.CurrentDetails(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
