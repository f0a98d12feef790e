// Package version reports which build of vigil is running: the module
// version and the VCS commit recorded by the Go toolchain
// (debug.ReadBuildInfo), or the values a release build sets with
// -ldflags "-X github.com/vigilops/vigil/internal/version.Version=v1.2.3
// -X github.com/vigilops/vigil/internal/version.Commit=abc123".
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set by release builds with -ldflags -X; empty means "ask the build info".
var (
	// Version is the release version, e.g. v0.3.0.
	Version string
	// Commit is the VCS revision the binary was built from.
	Commit string
)

// Info describes the running binary.
type Info struct {
	// Version is the module version ("(devel)" for a build from a
	// checkout, "v1.2.3" for `go install ...@v1.2.3` or a release).
	Version string `json:"version"`
	// Commit is the VCS revision, "" when unknown (-buildvcs=false).
	Commit string `json:"commit,omitempty"`
	// Modified is true when the checkout had uncommitted changes.
	Modified bool `json:"modified,omitempty"`
	// Time is the commit time.
	Time string `json:"commitTime,omitempty"`
	// Go is the toolchain version.
	Go string `json:"go"`
	// Platform is GOOS/GOARCH.
	Platform string `json:"platform"`
}

// Get returns the running binary's Info.
func Get() Info {
	in := Info{Version: "(devel)", Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" {
			in.Version = v
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				in.Commit = s.Value
			case "vcs.time":
				in.Time = s.Value
			case "vcs.modified":
				in.Modified = s.Value == "true"
			}
		}
	}
	if Version != "" {
		in.Version = Version
	}
	if Commit != "" {
		in.Commit = Commit
	}
	return in
}

// String is one line: "vigil v1.2.3 (commit abc1234, go1.26.8 linux/amd64)".
func (in Info) String() string {
	commit := in.Commit
	if commit == "" {
		commit = "unknown"
	} else if len(commit) > 12 {
		commit = commit[:12]
	}
	if in.Modified {
		commit += "+dirty"
	}
	return fmt.Sprintf("vigil %s (commit %s, %s %s)", in.Version, commit, in.Go, in.Platform)
}
