package activities

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/vigilops/vigil/workflows/flowdata"
)

// An HTTP job call heartbeats while the server takes its time, so the
// heartbeat timeout the workflow gives long calls notices a dead worker.
// The server answers once a heartbeat came (or gives up after
// 10 s, then the test fails): seen failing without the heartbeat.
func TestHTTPJobCallHeartbeatsWhileWaiting(t *testing.T) {
	defer func(d time.Duration) { HTTPHeartbeatInterval = d }(HTTPHeartbeatInterval)
	HTTPHeartbeatInterval = 20 * time.Millisecond
	var beats atomic.Int32
	beat := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-beat:
			w.WriteHeader(http.StatusOK)
		case <-time.After(10 * time.Second):
			w.WriteHeader(http.StatusGatewayTimeout)
		}
	}))
	defer srv.Close()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.SetOnActivityHeartbeatListener(func(*activity.Info, converter.EncodedValues) {
		if beats.Add(1) == 1 { // the SDK throttles later ones
			close(beat)
		}
	})
	(&HTTPJob{}).Register(env)
	var a *HTTPJob
	v, err := env.ExecuteActivity(a.Call, HTTPCallInput{Job: flowdata.HTTPJob{URL: srv.URL + "/slow", Timeout: flowdata.Duration(time.Minute)}})
	if err != nil {
		t.Fatalf("call: %v (%d heartbeats)", err, beats.Load())
	}
	var out JobOutput
	if err := v.Get(&out); err != nil || out.StatusCode != http.StatusOK {
		t.Fatalf("out %+v, %v", out, err)
	}
}
