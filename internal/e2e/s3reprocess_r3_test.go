package e2e

import (
	"context"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/localcloud/s3lite"
	"github.com/vigilops/vigil/internal/setup"
	"github.com/vigilops/vigil/internal/testenv"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// TestS3ReprocessingR3 (issue 13, R3): VIGIL_S3_R3_OBJECTS (10,000)
// objects with 20 % of their events dropped, 10 % duplicated and 5 % held
// back until after the sweep ran. The sweep starts the dropped and the
// held ones (its missed events: what had not arrived when it looked), the
// held events then arrive for objects already processed: none is lost,
// every object is processed exactly once and archived once.
func TestS3ReprocessingR3(t *testing.T) {
	testenv.Long(t, "10,000 objects take minutes")
	n := int(envInt("VIGIL_S3_R3_OBJECTS", 10_000))
	began := time.Now()
	st := newS3Stack(t, activities.DefaultHostName())
	counter := &keyCounter{counts: map[string]int{}}
	srv := httptest.NewServer(counter)
	t.Cleanup(srv.Close)
	st.bind(t, flowdata.Pipeline{Name: "reports",
		Processor: flowdata.Processor{Kind: flowdata.ProcessorHTTP, HTTP: &flowdata.HTTPProcessor{URL: srv.URL + "/ingest"}},
		Retry:     &flowdata.JobRetry{InitialInterval: flowdata.Duration(100 * time.Millisecond), MaximumAttempts: 3}})
	ctx := context.Background()

	st.cloud.S3.SetEventFaults(s3lite.EventFaults{DropRate: 0.2, DuplicateRate: 0.1, DelayMax: time.Second, HoldRate: 0.05 / 0.8})
	all := make([]string, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range n {
		all[i] = "incoming/r3/obj-" + strconv.Itoa(100000 + i)[1:] + ".csv"
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			st.put(t, all[i])
		})
	}
	wg.Wait()
	st.cloud.S3.SetEventFaults(s3lite.EventFaults{})
	stats := st.cloud.S3.EventStats()
	t.Logf("%d objects written in %s: %d events dropped, %d duplicated, %d held", n, time.Since(began).Round(time.Second), stats.Dropped, stats.Duplicated, stats.Held)
	if stats.Dropped == 0 || stats.Held == 0 || stats.Duplicated == 0 {
		t.Fatalf("faults not exercised: %+v", stats)
	}
	// A held duplicate is two held sends of one object.
	heldObjects := int64(len(stats.HeldKeys["inbox"]))

	// Every delivered event is processed; what is left is what has not
	// been announced yet.
	unannounced := stats.Dropped + heldObjects
	lastLog := time.Now()
	testenv.Eventually(t, 20*time.Minute, time.Second, "delivered objects processed", func() bool {
		left := int64(len(st.list(t, "incoming/")))
		if time.Since(lastLog) > 30*time.Second {
			lastLog = time.Now()
			t.Logf("%d left in incoming/, %d unannounced", left, unannounced)
		}
		return left == unannounced && st.cloud.S3.EventStats().Pending == 0
	})

	sweepStart := time.Now()
	run, err := st.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "sweep-r3", TaskQueue: workflows.TaskQueue}, workflows.S3SweepName,
		workflows.S3SweepInput{Bucket: "inbox", Prefix: "incoming/", Cutoff: time.Now(), Pipeline: mustBinding(t, st).Pipeline})
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.S3SweepResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res.MissedEvents != unannounced || res.Found != unannounced {
		t.Errorf("sweep %+v: missed events %d, want %d (%d dropped + %d held)", res, res.MissedEvents, unannounced, stats.Dropped, heldObjects)
	}
	testenv.Eventually(t, 10*time.Minute, time.Second, "incoming/ empty after the sweep", func() bool { return len(st.list(t, "incoming/")) == 0 })
	sweepTook := time.Since(sweepStart)

	// The held events arrive now, late, for objects already processed.
	if released := st.cloud.S3.ReleaseHeldEvents(); int64(released) != stats.Held {
		t.Fatalf("released %d held events, want %d", released, stats.Held)
	}
	queue, err := st.clients.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(setup.DefaultQueue)})
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 5*time.Minute, 500*time.Millisecond, "late events handled (queue empty)", func() bool {
		a, err := st.clients.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl,
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
		return err == nil && a.Attributes["ApproximateNumberOfMessages"] == "0" && a.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0" &&
			st.cloud.S3.EventStats().Pending == 0
	})

	wantBak := make([]string, len(all))
	for i, k := range all {
		wantBak[i] = "bak/" + k
	}
	slices.Sort(wantBak)
	if got := st.list(t, "bak/"); !slices.Equal(got, wantBak) {
		t.Errorf("bak/ holds %d keys, want %d; first difference: %v", len(got), len(wantBak), firstDiff(got, wantBak))
	}
	if left := st.list(t, "incoming/"); len(left) != 0 {
		t.Errorf("%d objects left in incoming/", len(left))
	}
	counts := counter.snapshot()
	twice := 0
	for _, k := range all {
		if counts[k] != 1 {
			twice++
			if twice <= 10 {
				t.Errorf("%q processed %d times", k, counts[k])
			}
		}
	}
	if len(counts) != len(all) {
		t.Errorf("processor saw %d keys, want %d", len(counts), len(all))
	}
	t.Logf("R3: %d objects in %s (sweep and its runs %s): %d dropped, %d duplicated, %d held objects (%d events); sweep %+v; "+
		"processed exactly once: %d, not exactly once: %d", n, time.Since(began).Round(time.Second), sweepTook.Round(time.Second),
		stats.Dropped, stats.Duplicated, heldObjects, stats.Held, res, len(all)-twice, twice)
}
