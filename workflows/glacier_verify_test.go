package workflows

import (
	"testing"

	"github.com/vigilops/vigil/workflows/flowdata"
)

// TestGlacierVerifyReachesFinish: the retrieval's verify level (and
// fsync) is in the FinishDestination activity's input, which re-reads the
// file with --verify full.
func TestGlacierVerifyReachesFinish(t *testing.T) {
	for _, verify := range []string{"", flowdata.VerifyFull} {
		f := &glacierFake{completeAt: 1, state: succeeded(3 * mib)}
		env := newGlacierEnv(t, f)
		in := glacierInput()
		in.Verify, in.Fsync = verify, true
		startGlacier(env, in)
		if err := env.GetWorkflowError(); err != nil {
			t.Fatal(err)
		}
		if len(f.finishIns) != 1 || f.finishIns[0].Verify != verify || !f.finishIns[0].Fsync {
			t.Errorf("verify %q, fsync: the finish got %+v", verify, f.finishIns)
		}
	}
}
