package e2e

import (
	"time"

	"github.com/vigilops/vigil/workflows"
)

// The retrieval workflows raise a poll interval below flowdata.MinPollInterval
// (a minute) to it. The in-process workers of these tests wait on emulators
// that answer in milliseconds, so their runs may poll faster; worker processes
// started by the tests keep the product's floor (their runs are woken by
// notifications, and the floor only spaces the fallback polls).
func init() { workflows.PollFloor = 100 * time.Millisecond }
