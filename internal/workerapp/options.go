package workerapp

import (
	"fmt"
	"os"
	"time"

	"go.temporal.io/sdk/worker"
)

// MaxHeartbeatThrottle caps how long the SDK holds an activity's latest
// heartbeat back before sending it to the server. The SDK's default is
// 80 % of the heartbeat timeout (48 s for a transfer's 1 min), so a
// transfer's progress, which readers take from the pending activity's
// heartbeat details (workflows.MergeHeartbeat), would lag by most of a
// minute. Heartbeats add no history events; a few seconds costs one small
// RPC per running transfer every few seconds.
const MaxHeartbeatThrottle = 3 * time.Second

// WorkerOptions are the options of every worker vigil runs (the shared
// task queue's and the host queue's), and of the test and bench workers
// that stand in for it. Their log lines carry the flow (logflow.go); their identity names the worker's host
// (pid@host@vigil, after the SDK's pid@hostname@), so the Web UI and the
// history's ActivityTaskStarted events tell which host ran each activity,
// also when --host differs from the OS hostname. With d.Deployment set,
// they poll as that Worker Deployment version (versioning.go).
func WorkerOptions(d *Deps) worker.Options {
	o := worker.Options{MaxHeartbeatThrottleInterval: MaxHeartbeatThrottle,
		Identity:          fmt.Sprintf("%d@%s@vigil", os.Getpid(), d.Host),
		Interceptors:      workerInterceptors(),
		DeploymentOptions: d.Deployment}
	d.applyScale(&o)
	return o
}
