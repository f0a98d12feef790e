//go:build !nodev

package workerapp

import (
	"context"
	"net/http"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/testenv"
)

// TestDevBackupFixtures: --dev serves the demo cache server, schedules its
// hourly backup and runs one at start, which completes (verified, with
// latest.json) within a minute.
func TestDevBackupFixtures(t *testing.T) {
	ep, stop := devRun(t, t.TempDir())
	defer stop()
	ctx := context.Background()
	if ep.DemoCacheURL == "" {
		t.Fatal("no demo cache server")
	}
	resp, err := http.Get(ep.DemoCacheURL + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("cache readyz: %v %v", resp, err)
	}
	resp.Body.Close()
	aws3 := awsconf.NewClients(awsconf.Local(ep.CloudURL)).S3
	var latestKey string
	testenv.Eventually(t, time.Minute, 200*time.Millisecond, "the start-up backup is listed as latest", func() bool {
		l, err := activities.ReadLatest(ctx, aws3, DemoBackupBucket, "cache/")
		latestKey = l.Key
		return err == nil && l.Size == 64<<20
	})
	entries, err := activities.ListBackups(ctx, aws3, DemoBackupBucket, "cache/", true)
	if err != nil || len(entries) == 0 || entries[0].Key != latestKey || entries[0].SHA256 == "" {
		t.Fatalf("backups %+v (%v), latest %s", entries, err, latestKey)
	}
	c, err := client.Dial(client.Options{HostPort: ep.TemporalAddress, Namespace: ep.Namespace})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	d, err := c.ScheduleClient().GetHandle(ctx, "demo-backup-cache-hourly").Describe(ctx)
	if err != nil {
		t.Fatalf("hourly backup schedule: %v", err)
	}
	if iv := d.Schedule.Spec.Intervals; len(iv) != 1 || iv[0].Every != time.Hour {
		t.Errorf("schedule spec %+v, want every hour", d.Schedule.Spec)
	}
}
