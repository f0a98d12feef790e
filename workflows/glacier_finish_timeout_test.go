package workflows

import (
	"testing"
	"time"
)

// FinishDestination re-reads every byte with --verify full: its
// start-to-close timeout grows with the output, so a large file can finish
// (a fixed 30 minutes could not pass about 90 GiB at 50 MiB/s); its
// heartbeat timeout stays a minute.
func TestFinishTimeoutGrowsWithSize(t *testing.T) {
	for _, size := range []int64{0, 1 << 30, 100 << 30, 40 << 40} {
		opts := finishOptions(size)
		readAtMinRate := time.Duration(float64(size)/float64(finishMinRate)) * time.Second
		if opts.StartToCloseTimeout < 30*time.Minute+readAtMinRate-time.Second {
			t.Errorf("size %d: start-to-close %v, shorter than 30m plus a read at 50 MiB/s (%v)", size, opts.StartToCloseTimeout, readAtMinRate)
		}
		if opts.HeartbeatTimeout != finishHeartbeatTimeout {
			t.Errorf("size %d: heartbeat timeout %v", size, opts.HeartbeatTimeout)
		}
	}
}
