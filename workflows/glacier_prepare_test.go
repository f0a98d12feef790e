package workflows

import (
	"errors"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/vigilops/vigil/activities"
)

// A file destination is prepared on its host before the job is initiated
// (glacier-prepare-early), once: the notification goes straight to the
// range downloads.
func TestGlacierFilePreparedBeforeTheWait(t *testing.T) {
	f := &glacierFake{}
	env := newGlacierEnv(t, f)
	done := succeeded(10 * mib)
	done.JobID = "job-1"
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(GlacierJobSignal, done) }, time.Hour)
	startGlacier(env, glacierInput())
	var res GlacierRetrieveResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	want := []string{activities.PrepareDestinationName, activities.InitiateJobName}
	if !slices.Equal(f.order, want) {
		t.Errorf("calls = %v, want %v (prepared once, before the initiation)", f.order, want)
	}
	if res.Bytes != 10*mib || len(f.downloads) != 3 || res.Host != "hostA" {
		t.Errorf("result = %+v, downloads = %v", res, f.downloads)
	}
}

// An S3 destination is prepared after the wait: its multipart upload must
// not stay open for the hours the job takes.
func TestGlacierS3PreparedAfterTheWait(t *testing.T) {
	f := &glacierFake{completeAt: 1, state: succeeded(10 * mib)}
	env := newGlacierEnv(t, f)
	in := glacierInput()
	in.Destination, in.ChunkSize = "s3://out/x", 8*mib
	startGlacier(env, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	want := []string{activities.InitiateJobName, activities.PrepareDestinationName}
	if !slices.Equal(f.order, want) {
		t.Errorf("calls = %v, want %v", f.order, want)
	}
}

// A destination its host cannot write fails the run before a Glacier job
// is paid for.
func TestGlacierUnwritableDestinationFailsBeforeInitiating(t *testing.T) {
	f := &glacierFake{prepareErr: activities.BadInput("destination: mkdir /out: permission denied")}
	env := newGlacierEnv(t, f)
	startGlacier(env, glacierInput())
	err := env.GetWorkflowError()
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != activities.ErrTypeBadInput {
		t.Fatalf("error = %v, want %s", err, activities.ErrTypeBadInput)
	}
	if f.initiated != 0 {
		t.Errorf("initiated %d job(s), want none", f.initiated)
	}
}
