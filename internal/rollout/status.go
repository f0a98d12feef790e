// Package rollout reads and changes the routing of vigil's Worker
// Deployment (README "Rollouts"): which build new runs go to (current,
// ramping), who polls each build, and how many pinned runs still drain on
// it. `starter deploy` prints and drives it; the rollout test uses it too.
package rollout

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// DefaultDeploymentName is the Worker Deployment `starter deploy` acts on
// unless told otherwise; README "Rollouts" starts workers with it.
const DefaultDeploymentName = "vigil"

// Drainage statuses of a build that is neither current nor ramping, as
// the server computes them from visibility, every few minutes.
const (
	// Draining: pinned runs may still be open on the build.
	Draining = "draining"
	// Drained: no pinned run is open on it; its workers can stop.
	Drained = "drained"
)

// Build is one build (Worker Deployment version) of the deployment.
type Build struct {
	// BuildID names the build.
	BuildID string `json:"buildId"`
	// Current: new runs start on this build.
	Current bool `json:"current"`
	// Ramping: RampPercentage % of new runs start on this build.
	Ramping        bool    `json:"ramping"`
	RampPercentage float32 `json:"rampPercentage,omitempty"`
	// Drainage is Draining, Drained or "" (current, ramping, or never
	// either).
	Drainage string `json:"drainage,omitempty"`
	// DrainageCheckedAt is when the server last computed Drainage.
	DrainageCheckedAt *time.Time `json:"drainageCheckedAt,omitempty"`
	// PinnedRunning counts the open runs pinned to this build (a
	// visibility count, so up to date within seconds, unlike Drainage).
	PinnedRunning int64 `json:"pinnedRunning"`
	// Pollers are the identities of the workers polling as this build.
	Pollers []string `json:"pollers"`
	// CreateTime is when a worker first polled as this build.
	CreateTime time.Time `json:"createTime"`
	// RoutingChangedTime is when this build last became or stopped being
	// current or ramping.
	RoutingChangedTime *time.Time `json:"routingChangedTime,omitempty"`
	// LastCurrentTime is when this build last became current (nil: never).
	LastCurrentTime *time.Time `json:"lastCurrentTime,omitempty"`
}

// Status is the deployment's builds, newest first.
type Status struct {
	// DeploymentName names the Worker Deployment.
	DeploymentName string `json:"deploymentName"`
	// Builds are its versions, newest first.
	Builds []Build `json:"builds"`
	// Propagating: the last routing change has not reached every task
	// queue yet; until it has, new runs may still start on the build that
	// was current before.
	Propagating bool `json:"propagating"`
}

// Current is the current build's ID, "" when there is none.
func (s Status) Current() string {
	for _, b := range s.Builds {
		if b.Current {
			return b.BuildID
		}
	}
	return ""
}

// Ramping is the ramping build, nil when none is.
func (s Status) Ramping() *Build {
	for i := range s.Builds {
		if s.Builds[i].Ramping {
			return &s.Builds[i]
		}
	}
	return nil
}

// Find is the build with the ID, nil when the deployment has none.
func (s Status) Find(buildID string) *Build {
	for i := range s.Builds {
		if s.Builds[i].BuildID == buildID {
			return &s.Builds[i]
		}
	}
	return nil
}

// Describe reads the deployment's status. A deployment no worker has
// polled as yet is a serviceerror.NotFound.
func Describe(ctx context.Context, c client.Client, namespace, deployment string) (Status, error) {
	d, err := c.WorkflowService().DescribeWorkerDeployment(ctx, &workflowservice.DescribeWorkerDeploymentRequest{
		Namespace: namespace, DeploymentName: deployment})
	if err != nil {
		return Status{}, err
	}
	info := d.GetWorkerDeploymentInfo()
	rc := info.GetRoutingConfig()
	h := c.WorkerDeploymentClient().GetHandle(deployment)
	st := Status{DeploymentName: deployment,
		Propagating: info.GetRoutingConfigUpdateState() == enumspb.ROUTING_CONFIG_UPDATE_STATE_IN_PROGRESS}
	pollers := pollerCache{c: c, namespace: namespace, seen: map[string][]*taskqueuepb.PollerInfo{}}
	for _, vs := range info.GetVersionSummaries() {
		id := vs.GetDeploymentVersion().GetBuildId()
		b := Build{BuildID: id, CreateTime: vs.GetCreateTime().AsTime(), Pollers: []string{},
			RoutingChangedTime: optTime(vs.GetRoutingUpdateTime()), LastCurrentTime: optTime(vs.GetLastCurrentTime())}
		if rc.GetCurrentDeploymentVersion().GetBuildId() == id {
			b.Current = true
		} else if rc.GetRampingDeploymentVersion().GetBuildId() == id {
			b.Ramping, b.RampPercentage = true, rc.GetRampingVersionPercentage()
		}
		if di := vs.GetDrainageInfo(); di != nil && !b.Current && !b.Ramping {
			b.Drainage = drainageName(di.GetStatus())
			if b.Drainage != "" {
				b.DrainageCheckedAt = optTime(di.GetLastCheckedTime())
			}
		}
		if b.PinnedRunning, err = countPinned(ctx, c, namespace, deployment, id); err != nil {
			return Status{}, err
		}
		v, err := h.DescribeVersion(ctx, client.WorkerDeploymentDescribeVersionOptions{BuildID: id})
		if err != nil {
			return Status{}, fmt.Errorf("describing build %s: %w", id, err)
		}
		for _, tq := range v.Info.TaskQueuesInfos {
			infos, err := pollers.get(ctx, tq.Name, tq.Type)
			if err != nil {
				return Status{}, err
			}
			for _, p := range infos {
				o := p.GetDeploymentOptions()
				if o.GetDeploymentName() == deployment && o.GetBuildId() == id && !slices.Contains(b.Pollers, p.GetIdentity()) {
					b.Pollers = append(b.Pollers, p.GetIdentity())
				}
			}
		}
		slices.Sort(b.Pollers)
		st.Builds = append(st.Builds, b)
	}
	slices.SortStableFunc(st.Builds, func(x, y Build) int { return y.CreateTime.Compare(x.CreateTime) })
	return st, nil
}

// optTime is t as a time, nil when unset.
func optTime(t *timestamppb.Timestamp) *time.Time {
	if t == nil || t.AsTime().IsZero() {
		return nil
	}
	v := t.AsTime()
	return &v
}

func drainageName(s enumspb.VersionDrainageStatus) string {
	switch s {
	case enumspb.VERSION_DRAINAGE_STATUS_DRAINING:
		return Draining
	case enumspb.VERSION_DRAINAGE_STATUS_DRAINED:
		return Drained
	}
	return ""
}

// PinnedQuery is the visibility query of the open runs pinned to a build:
// the one the server's drainage check runs.
func PinnedQuery(deployment, buildID string) string {
	return fmt.Sprintf("TemporalWorkerDeploymentVersion = '%s:%s' AND TemporalWorkflowVersioningBehavior = 'Pinned' AND ExecutionStatus = 'Running'",
		deployment, buildID)
}

func countPinned(ctx context.Context, c client.Client, namespace, deployment, buildID string) (int64, error) {
	if strings.ContainsAny(deployment+buildID, `'"\`) {
		return 0, fmt.Errorf("build %q of deployment %q: quotes cannot be queried", buildID, deployment)
	}
	res, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: namespace, Query: PinnedQuery(deployment, buildID)})
	if err != nil {
		return 0, fmt.Errorf("counting runs pinned to build %s: %w", buildID, err)
	}
	return res.GetCount(), nil
}

// pollerCache describes each task queue once: the server lists the
// pollers of every build on it.
type pollerCache struct {
	c         client.Client
	namespace string
	seen      map[string][]*taskqueuepb.PollerInfo
}

func (p *pollerCache) get(ctx context.Context, name string, typ client.TaskQueueType) ([]*taskqueuepb.PollerInfo, error) {
	key := fmt.Sprint(name, "/", int(typ))
	if got, ok := p.seen[key]; ok {
		return got, nil
	}
	res, err := p.c.WorkflowService().DescribeTaskQueue(ctx, &workflowservice.DescribeTaskQueueRequest{Namespace: p.namespace,
		TaskQueue:     &taskqueuepb.TaskQueue{Name: name, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
		TaskQueueType: enumspb.TaskQueueType(typ)})
	if err != nil {
		return nil, fmt.Errorf("describing task queue %s: %w", name, err)
	}
	p.seen[key] = res.GetPollers()
	return res.GetPollers(), nil
}
