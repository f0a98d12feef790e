package workflows

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// Replay histories of the failure handling's versioned branches, recorded
// with the production interceptors (replayInterceptors): FailureAlerts'
// alert on a failed run, the keeps-failing warning, an S3 object whose
// check or archive move fails going to the dead letter, and a Glacier file
// destination started over after it was replaced.
func init() {
	reg := func(w worker.Registry, name string, f any) {
		w.RegisterActivityWithOptions(f, activity.RegisterOptions{Name: name})
	}
	slack := func(w worker.Registry) {
		reg(w, activities.SlackNotifyName, func(context.Context, activities.SlackMessage) error { return nil })
	}
	obj := flowdata.S3ObjectRef{Bucket: "b", Key: "in/k", ETag: "e1"}
	// s3Stubs registers an S3 object run's stubs: checkErr fails the check,
	// processFailures attempts of the processor fail (retried), archiveErr
	// fails the archive move (not the dead-letter one).
	s3Stubs := func(w worker.Registry, checkErr error, processFailures int, archiveErr error) {
		reg(w, activities.CheckObjectName, func(context.Context, activities.S3ObjectCheckInput) (activities.S3ObjectCheck, error) {
			return activities.S3ObjectCheck{State: activities.ObjectPresent, ETag: "e1", Size: 5}, checkErr
		})
		calls := 0
		reg(w, activities.ProcessObjectName, func(context.Context, activities.ProcessObjectInput) (activities.JobOutput, error) {
			calls++
			if calls <= processFailures {
				return activities.JobOutput{}, temporal.NewApplicationError("HTTP 503", activities.ErrTypeUnexpectedStatus)
			}
			return activities.JobOutput{Summary: "HTTP 200"}, nil
		})
		reg(w, activities.MoveObjectName, func(_ context.Context, in activities.MoveObjectInput) (activities.MoveObjectResult, error) {
			if in.Error == "" && archiveErr != nil {
				return activities.MoveObjectResult{}, archiveErr
			}
			return activities.MoveObjectResult{Location: "s3://" + in.DestBucket + "/" + in.DestKey}, nil
		})
		slack(w)
	}
	startObject := func(p flowdata.Pipeline) func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
		return func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
			return c.ExecuteWorkflow(ctx, o, S3ObjectName, flowdata.S3ObjectInput{Object: obj, Pipeline: p, Source: flowdata.SourceEvent})
		}
	}
	// The processor's retries: FailingAlertAttempts failures, then success.
	keepsFailing := replayPipeline
	keepsFailing.Retry = &flowdata.JobRetry{InitialInterval: flowdata.Duration(100 * time.Millisecond), BackoffCoefficient: 1,
		MaximumAttempts: FailingAlertAttempts + 2}
	replayCases = append(replayCases,
		// vigil-failure-alert version 1: the retrieval fails (its job
		// cannot be initiated) without an alert of its own; FailureAlerts
		// posts one.
		replayCase{file: "glacier-v4-failure-alert.json", name: GlacierRetrieveName, workflow: GlacierRetrieveWorkflow,
			register: func(w worker.Worker) {
				registerGlacierStubs(w, glacierStubs{initiateErr: temporal.NewNonRetryableApplicationError(
					"Glacier InitiateJob v/a: ResourceNotFoundException: archive not found", activities.ErrTypeNotFound, nil)})
				slack(w)
			},
			start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
				return c.ExecuteWorkflow(ctx, o, GlacierRetrieveName, GlacierRetrieveInput{Vault: "v", ArchiveID: "a",
					Destination: "s3://out/x", PollInterval: flowdata.Duration(100 * time.Millisecond)})
			}},
		// vigil-failing-alert version 1: the processor fails
		// FailingAlertAttempts times (ClassifyInterceptor signals each),
		// the run warns once, the next attempt succeeds.
		replayCase{file: "s3object-v1-keeps-failing.json", name: S3ObjectName, workflow: S3ObjectWorkflow,
			register: func(w worker.Worker) { s3Stubs(w, nil, FailingAlertAttempts, nil) },
			start:    startObject(keepsFailing)},
		// s3object-failure-dead-letter version 1: a check that fails for
		// good dead-letters the object (with one alert).
		replayCase{file: "s3object-v1-check-deadletter.json", name: S3ObjectName, workflow: S3ObjectWorkflow,
			register: func(w worker.Worker) {
				s3Stubs(w, temporal.NewNonRetryableApplicationError("S3 HeadObject s3://b/in/k: BadRequest (HTTP 400)", activities.ErrTypeBadInput, nil), 0, nil)
			},
			start: startObject(replayPipeline)},
		// ... and so does an archive move whose copy does not verify.
		replayCase{file: "s3object-v1-archive-deadletter.json", name: S3ObjectName, workflow: S3ObjectWorkflow,
			register: func(w worker.Worker) {
				s3Stubs(w, nil, 0, temporal.NewNonRetryableApplicationError("copy s3://b/archive/in/k has 7 bytes, source 5; the copy was deleted",
					activities.ErrTypeChecksumMismatch, nil))
			},
			start: startObject(replayPipeline)},
		// glacier-destination-identity version 1: a range finds the
		// partial file replaced; the run prepares it again and downloads
		// every range again.
		replayCase{file: "glacier-v4-destination-replaced.json", name: GlacierRetrieveName, workflow: GlacierRetrieveWorkflow,
			register: func(w worker.Worker) { registerGlacierStubs(w, glacierStubs{}) },
			start: func(ctx context.Context, c client.Client, o client.StartWorkflowOptions) (client.WorkflowRun, error) {
				startHostWorker(c, o.TaskQueue, "h5", glacierStubs{replaceRange: 1})
				return c.ExecuteWorkflow(ctx, o, GlacierRetrieveName, GlacierRetrieveInput{Vault: "v", ArchiveID: "a",
					Destination: "file://h5/x", PollInterval: flowdata.Duration(100 * time.Millisecond), ChunkSize: 1 << 20, Parallel: 2})
			}},
	)
}
