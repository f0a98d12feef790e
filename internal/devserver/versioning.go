package devserver

import (
	"time"

	"go.temporal.io/server/common/dynamicconfig"
)

// DrainageRefresh is how soon after a build stops being current the dev
// server first counts its open pinned runs, and how often it counts again
// while some remain (matching.wv.VersionDrainageStatusVisibilityGracePeriod
// and ...RefreshInterval, 3 minutes each by default): `starter deploy
// status` then shows a build drained within seconds of its last pinned run
// ending.
const DrainageRefresh = 2 * time.Second

// versioningConfig is the dynamic config of Worker Versioning (README
// "Rollouts"). Server v1.32.1 has deployment versions and the versioning
// workflow APIs on by default; they are set here anyway so that a server
// upgrade that changes a default cannot turn versioned workers off in
// --dev. The drainage intervals are short: SQLite visibility is written
// within milliseconds, and the counts are one indexed query per draining
// build.
var versioningConfig = dynamicconfig.StaticClient{
	dynamicconfig.MakeKey("system.enableDeploymentVersions"):                        true,
	dynamicconfig.MakeKey("frontend.workerVersioningWorkflowAPIs"):                  true,
	dynamicconfig.MakeKey("matching.wv.VersionDrainageStatusVisibilityGracePeriod"): DrainageRefresh,
	dynamicconfig.MakeKey("matching.wv.VersionDrainageStatusRefreshInterval"):       DrainageRefresh,
}
