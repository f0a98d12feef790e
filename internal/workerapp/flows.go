package workerapp

import (
	"log/slog"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/router"
	"github.com/vigilops/vigil/internal/secretenv"
	"github.com/vigilops/vigil/workflows"
)

// Deps are what flows' activities and router handlers are built from.
type Deps struct {
	// Temporal is the worker's client (router handlers signal through it).
	Temporal client.Client
	// DataConverter is Temporal's (with the payload codec), for decoding
	// memos the client returns; nil is the SDK's default.
	DataConverter converter.DataConverter
	// AWS holds the service clients.
	AWS *awsconf.Clients
	// Logger is the worker's logger.
	Logger *slog.Logger
	// Host is this worker's host name: its host task queue, and what the
	// WorkerHost activity answers.
	Host string
	// Getenv reads the worker's environment; secrets referenced by name in
	// workflow inputs are resolved through it, never put into history.
	Getenv func(string) string
	// SecretEnv is the allow-list of the variables runs may read through
	// Getenv (basicAuth.passwordEnv, bearerTokenEnv, webhook envs); the
	// zero value allows secretenv.DefaultPrefix and secretenv.DefaultNames.
	SecretEnv secretenv.Policy
	// AllowLinkLocalHTTP lets runs' http requests reach link-local and
	// cloud metadata addresses (outbound); false refuses them.
	AllowLinkLocalHTTP bool
	// TaskQueue is the worker's task queue (where router handlers start
	// runs); empty means workflows.TaskQueue.
	TaskQueue string
	// Deployment opts the workers into Worker Versioning (versioning.go);
	// the zero value runs them unversioned.
	Deployment worker.DeploymentOptions
	// Flows are the flows RegisterFlows registers (--flows, scale.go);
	// empty is all.
	Flows []string
	// idle tracks the worker's tasks for --exit-when-idle (idle.go).
	idle *idleTracker
}

// taskQueue is d.TaskQueue or the default.
func (d *Deps) taskQueue() string {
	if d.TaskQueue != "" {
		return d.TaskQueue
	}
	return workflows.TaskQueue
}

// Flow registers one vigil flow with the worker: its workflows, its
// activities and its notification handlers.
type Flow func(w worker.Registry, r *router.Router, d *Deps)

// Flows lists every flow the worker runs; each flow adds one line here.
var Flows = []Flow{commonActivities, selfCheckFlow, batchFlow, retrievalFlow, s3ObjectFlow, backupFlow, datastoreFlow}

// commonActivities are shared by several flows: one struct per system.
func commonActivities(w worker.Registry, _ *router.Router, d *Deps) {
	(&activities.S3{Client: d.AWS.S3}).Register(w)
	(&activities.SQS{Client: d.AWS.SQS}).Register(w)
	(&activities.Slack{Env: d.secretEnv(), Client: d.slackClient()}).Register(w)
	(&activities.Temporal{Client: d.Temporal}).Register(w)
	(&activities.Host{Name: d.Host}).Register(w)
	workflows.Register(w, map[string]any{workflows.RouterQueuesName: workflows.RouterQueuesWorkflow})
}

func selfCheckFlow(w worker.Registry, _ *router.Router, d *Deps) {
	workflows.Register(w, map[string]any{workflows.SelfCheckName: workflows.SelfCheckWorkflow})
	(&activities.SelfCheck{S3: d.AWS.S3, SQS: d.AWS.SQS}).Register(w)
}

// batchFlow is the cron batch job and the schedule watcher.
func batchFlow(w worker.Registry, _ *router.Router, d *Deps) {
	workflows.Register(w, map[string]any{
		workflows.BatchJobName:      workflows.BatchJobWorkflow,
		workflows.ScheduleWatchName: workflows.ScheduleWatchWorkflow,
	})
	(&activities.HTTPJob{Env: d.secretEnv(), Client: d.httpClient()}).Register(w)
	(&activities.Exec{}).Register(w)
}

// RegisterFlows registers every flow (d.Flows when set) with w and r (the
// worker does; tests that run a real worker do too).
func RegisterFlows(w worker.Registry, r *router.Router, d *Deps) {
	for _, f := range selectedFlows(d.Flows) {
		f(w, r, d)
	}
}
