package workflows

// Routing heavy work. A job file, a pipeline file or a schedule can name a
// task queue of its own (`taskQueue:`): its runs go there, to a separate
// worker pool (`worker --task-queue vigil-heavy --flows batch,s3-object`)
// that scales on its own, down to zero (README "Scaling"). Activities
// follow their workflow's queue, host-pinned ones its host queue
// (HostTaskQueue), so routing the workflow routes the whole run.

// HeavyTaskQueue is the conventional task queue of heavy work: the one the
// examples and deploy/k8s use, and that --dev starts workers for on demand.
const HeavyTaskQueue = "vigil-heavy"

// routed is an input that names the task queue its runs go to.
type routed interface{ RunTaskQueue() string }

// RunTaskQueue is the queue a BatchJob run goes to ("" for the default).
func (in BatchJobInput) RunTaskQueue() string { return in.Job.TaskQueue }

// RouteTaskQueue is the task queue a run of input goes to: the one its
// file names, else def.
func RouteTaskQueue(input any, def string) string {
	if r, ok := input.(routed); ok && r.RunTaskQueue() != "" {
		return r.RunTaskQueue()
	}
	return def
}
