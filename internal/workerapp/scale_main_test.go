package workerapp

import (
	"os"
	"testing"
)

// workerChildEnv makes this test binary run as `worker` (Main) instead of
// running the tests: --dev's scale from zero starts os.Executable(), which
// is this binary under go test, as its workers. The tests set it for the
// processes they start; the binary go test starts does not have it.
const workerChildEnv = "VIGIL_TEST_RUN_AS_WORKER"

func TestMain(m *testing.M) {
	if os.Getenv(workerChildEnv) == "1" {
		os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	if err := os.Setenv(workerChildEnv, "1"); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}
