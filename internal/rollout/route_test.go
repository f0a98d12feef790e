package rollout

import (
	"testing"
	"time"
)

func at(min int) *time.Time {
	t := time.Date(2026, 12, 7, 12, min, 0, 0, time.UTC)
	return &t
}

// TestPreviousBuild: the rollback target is the build current most
// recently before the current one; a build that only ramped, or never ran,
// is not one.
func TestPreviousBuild(t *testing.T) {
	st := Status{Builds: []Build{
		{BuildID: "v4", Ramping: true, LastCurrentTime: at(1)},
		{BuildID: "v3", Current: true, LastCurrentTime: at(30)},
		{BuildID: "v2b", Drainage: Drained, RoutingChangedTime: at(40)}, // ramped, then stopped
		{BuildID: "v2", Drainage: Draining, LastCurrentTime: at(20)},
		{BuildID: "v1", Drainage: Drained, LastCurrentTime: at(10)},
		{BuildID: "v0"},
	}}
	if got := previousBuild(st); got != "v2" {
		t.Fatalf("previousBuild = %q, want v2", got)
	}
	if got := previousBuild(Status{Builds: []Build{{BuildID: "v1", Current: true, LastCurrentTime: at(1)}, {BuildID: "v2b", Drainage: Drained}}}); got != "" {
		t.Fatalf("previousBuild with no earlier current build = %q, want none", got)
	}
}

func TestCheckNames(t *testing.T) {
	for _, ok := range []string{"vigil", "v1.5.0+0123456789ab-dirty"} {
		if err := CheckBuildID("id", ok); err != nil {
			t.Errorf("CheckBuildID(%q): %v", ok, err)
		}
	}
	if err := CheckDeploymentName("name", "vigil-prod"); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"", "a.b", "a:b", "__x", "it's", "a b", `a\b`} {
		if CheckDeploymentName("name", bad) == nil {
			t.Errorf("CheckDeploymentName(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"", "__x", `x"y`} {
		if CheckBuildID("id", bad) == nil {
			t.Errorf("CheckBuildID(%q) accepted", bad)
		}
	}
}
