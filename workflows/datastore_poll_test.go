package workflows

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigilops/vigil/workflows/flowdata"
)

func TestDatastorePollPolicy(t *testing.T) {
	var def flowdata.DatastorePollPolicy
	cases := []struct {
		p       flowdata.DatastorePollPolicy
		prev    time.Duration
		elapsed time.Duration
		state   string
		want    time.Duration
	}{
		{def, 5 * time.Second, 30 * time.Second, flowdata.DatastoreProcessing, 5 * time.Second},
		{def, 5 * time.Second, 65 * time.Second, flowdata.DatastoreProcessing, 7500 * time.Millisecond},
		{def, 50 * time.Second, 10 * time.Minute, flowdata.DatastoreProcessing, time.Minute},
		{def, time.Minute, 30 * time.Minute, flowdata.DatastoreFinalizing, 15 * time.Second},
		{def, 5 * time.Second, 30 * time.Second, flowdata.DatastoreFinalizing, 5 * time.Second},
		{flowdata.DatastorePollPolicy{Initial: flowdata.Duration(time.Minute), Max: flowdata.Duration(time.Minute)},
			time.Minute, 10 * time.Second, flowdata.DatastoreFinalizing, time.Minute},
	}
	for i, c := range cases {
		if got := nextPoll(c.p, c.prev, c.elapsed, c.state); got != c.want {
			t.Errorf("case %d: next = %s, want %s", i, got, c.want)
		}
	}
	if got := pollInitial(def); got != 5*time.Second {
		t.Errorf("initial %s", got)
	}
}

// TestDatastoreExportPollSchedule checks the polls' times with the default
// policy: every 5 s for a minute, then backing off by 1.5 to 60 s.
func TestDatastoreExportPollSchedule(t *testing.T) {
	f := newDatastoreEnv(t, flowdata.DatastoreProcessing)
	_, _ = f.export(flowdata.DatastoreExportInput{Deadline: flowdata.Duration(5 * time.Minute)})
	got := fmt.Sprint(f.pollTimes)
	want := "[5s 10s 15s 20s 25s 30s 35s 40s 45s 50s 55s 1m0s 1m7.5s 1m18.75s 1m35.625s 2m0.9375s 2m38.90625s 3m35.859375s 4m35.859375s 5m0s]"
	if got != want {
		t.Errorf("poll times\n got %s\nwant %s", got, want)
	}
}

func TestDatastoreExportUnreachableAPIStillEndsByTheDeadline(t *testing.T) {
	f := newDatastoreEnv(t, flowdata.DatastoreProcessing)
	f.pollErr = errors.New("UNAVAILABLE: datastore.googleapis.com unreachable")
	_, err := f.export(flowdata.DatastoreExportInput{Deadline: flowdata.Duration(10 * time.Minute)})
	res := errDetails(t, err, ErrTypeDatastoreFailed)
	if res.Outcome != flowdata.OutcomeFailed || !strings.Contains(err.Error(), "UNAVAILABLE") {
		t.Fatalf("res %+v, err %v", res, err)
	}
	if res.Elapsed.D() > 11*time.Minute {
		t.Errorf("the run ended %s after its start, past its 10m deadline", res.Elapsed)
	}
	f.oneReport(flowdata.OutcomeFailed)
}
