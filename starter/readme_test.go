package main

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/workerapp"
)

// TestMain lets the README scripts run this test binary as `starter`
// (testscript puts it in their PATH under that name).
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"starter": func() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

var updateREADME = flag.Bool("update-readme", false, "rewrite the blocks of testdata/readme/*.txtar from README.md")

// readmePath is README.md, relative to this package.
const readmePath = "../README.md"

// readmeMarker precedes a README code block that CI runs or compares:
// `<!-- readme-test: NAME -->` a shell block that testdata/readme holds as
// NAME.sh; `<!-- readme-file: PATH -->` a block that is the file PATH
// (relative to the repository root) as it is.
var readmeMarker = regexp.MustCompile("(?m)^<!-- readme-(test|file): (\\S+) -->\n```[a-z]*\n((?s:.*?))```\n")

// markerLine is any readme- marker on a line of its own.
var markerLine = regexp.MustCompile("(?m)^<!-- readme-")

// readmeBlocks returns README's marked shell blocks by name and its marked
// file blocks by path.
func readmeBlocks(t *testing.T) (tests, files map[string]string) {
	t.Helper()
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	tests, files = map[string]string{}, map[string]string{}
	for _, m := range readmeMarker.FindAllStringSubmatch(string(b), -1) {
		dst := map[string]map[string]string{"test": tests, "file": files}[m[1]]
		if _, dup := dst[m[2]]; dup {
			t.Errorf("README marks two blocks readme-%s: %s", m[1], m[2])
		}
		dst[m[2]] = m[3]
	}
	if n := len(markerLine.FindAll(b, -1)); n != len(tests)+len(files) {
		t.Errorf("README has %d readme- markers but %d of them precede a code block", n, len(tests)+len(files))
	}
	return tests, files
}

// TestREADMEFiles checks that README's copies of example files are the
// files in the repository.
func TestREADMEFiles(t *testing.T) {
	_, files := readmeBlocks(t)
	if len(files) == 0 {
		t.Fatal("README marks no readme-file blocks")
	}
	for path, block := range files {
		b, err := os.ReadFile(filepath.Join("..", path))
		if err != nil {
			t.Errorf("README shows %s: %v", path, err)
			continue
		}
		if string(b) != block {
			t.Errorf("README's copy of %s differs from the file: make them the same", path)
		}
	}
}

// TestREADMEScriptsMatch checks that every README shell block marked
// readme-test is, byte for byte, a NAME.sh of testdata/readme, and the
// other way round (-update-readme rewrites the scripts from README).
func TestREADMEScriptsMatch(t *testing.T) {
	blocks, _ := readmeBlocks(t)
	seen := map[string]bool{}
	archives, _ := filepath.Glob("testdata/readme/*.txtar")
	for _, path := range archives {
		a, err := txtar.ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		changed := false
		for i, f := range a.Files {
			name, ok := strings.CutSuffix(f.Name, ".sh")
			if !ok {
				continue
			}
			seen[name] = true
			block, ok := blocks[name]
			if !ok {
				t.Errorf("%s: %s is no README block (no <!-- readme-test: %s --> in README)", path, f.Name, name)
				continue
			}
			if string(f.Data) != block {
				if *updateREADME {
					a.Files[i].Data = []byte(block)
					changed = true
					continue
				}
				t.Errorf("%s: %s differs from README's block %q: run go test ./starter -run TestREADMEScriptsMatch -update-readme, then check the script's assertions", path, f.Name, name)
			}
		}
		if changed {
			if err := os.WriteFile(path, txtar.Format(a), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name := range blocks {
		if !seen[name] {
			t.Errorf("README block %q is in no testdata/readme/*.txtar as %s.sh", name, name)
		}
	}
}

// TestREADME runs README's walkthrough: it starts one `worker --dev` stack
// (in this process, on free ports) and runs each testdata/readme script,
// whose NAME.sh files are README's blocks (TestREADMEScriptsMatch), with
// `sh -e` in a directory holding a copy of examples/. Commands say
// `go run ./starter`; a `go` in the scripts' PATH runs this package's
// starter for that. The stack's free ports replace README's documented
// ones (127.0.0.1:7233, :4566, :8090) in the scripts and the copied
// examples, and /tmp/ in file:///tmp/ and dir:/tmp/ becomes the script's
// own directory: nothing else changes.
func TestREADME(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a --dev stack")
	}
	ep := startREADMEStack(t)
	subst := strings.NewReplacer(
		"127.0.0.1:7233", ep.TemporalAddress,
		"http://127.0.0.1:4566", ep.CloudURL,
		"http://127.0.0.1:8090", ep.DemoCacheURL,
	)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/readme",
		Setup: func(env *testscript.Env) error {
			work := env.WorkDir
			tmp := strings.NewReplacer("file:///tmp/", "file://"+work+"/tmp/", "dir:/tmp/", "dir:"+work+"/tmp/")
			rewrite := func(b []byte) []byte { return []byte(tmp.Replace(subst.Replace(string(b)))) }
			if err := copyTree(filepath.Join("..", "examples"), filepath.Join(work, "examples"), rewrite); err != nil {
				return err
			}
			scripts, _ := filepath.Glob(filepath.Join(work, "*.sh"))
			for _, s := range scripts {
				b, err := os.ReadFile(s)
				if err != nil {
					return err
				}
				if err := os.WriteFile(s, rewrite(b), 0o644); err != nil {
					return err
				}
			}
			bin := filepath.Join(work, ".bin")
			if err := os.MkdirAll(bin, 0o755); err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Join(work, "tmp"), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(bin, "go"), []byte(goShim), 0o755); err != nil {
				return err
			}
			env.Setenv("PATH", bin+string(os.PathListSeparator)+env.Getenv("PATH"))
			// What the Quick start's export lines set (the env block runs them
			// too; each script is its own shell).
			for k, v := range map[string]string{
				"TEMPORAL_ADDRESS": ep.TemporalAddress, "TEMPORAL_NAMESPACE": ep.Namespace,
				"AWS_ENDPOINT_URL": ep.CloudURL, "AWS_REGION": awsconf.LocalRegion,
				"AWS_ACCESS_KEY_ID": awsconf.LocalAccessKey, "AWS_SECRET_ACCESS_KEY": awsconf.LocalSecretKey,
			} {
				env.Setenv(k, v)
			}
			return nil
		},
	})
}

// goShim is the scripts' `go`: `go run ./starter ARGS` runs the starter
// under test; anything else is refused.
const goShim = `#!/bin/sh
if [ "$1" = run ] && [ "$2" = ./starter ]; then shift 2; exec starter "$@"; fi
echo "README test: only 'go run ./starter' is available here, not: go $*" >&2
exit 127
`

// copyTree copies the regular files under src to dst, each through rewrite.
func copyTree(src, dst string, rewrite func([]byte) []byte) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), rewrite(b), 0o644)
	})
}

// startREADMEStack runs `worker --dev` in this process on free ports with
// its state in a temporary directory, and stops it when the test ends.
func startREADMEStack(t *testing.T) workerapp.Endpoints {
	t.Helper()
	return runWorkerApp(t, []string{"--dev", "--data-dir", t.TempDir(), "--temporal-port", "0", "--ui-port", "0",
		"--cloud-port", "0", "--datastore-port", "0", "--log-level", "warn"}, 3*time.Minute)
}

// ciTestCommand is README's test command, the block after <!-- ci-test-command -->.
var ciTestCommand = regexp.MustCompile("(?m)^<!-- ci-test-command -->\n```sh\n(.*)\n```\n")

// TestREADMETestCommand checks that README's test command is, as a whole
// line, the one .ci/run runs.
func TestREADMETestCommand(t *testing.T) {
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	m := ciTestCommand.FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no <!-- ci-test-command --> block")
	}
	ci, err := os.ReadFile("../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	var runs []string
	for _, line := range strings.Split(string(ci), "\n") {
		if strings.HasPrefix(line, "go test ") && strings.HasSuffix(line, " ./...") {
			runs = append(runs, line)
		}
	}
	if len(runs) != 1 || runs[0] != string(m[1]) {
		t.Errorf("README's test command is %q; .ci/run's go test ./... lines are %q: make them the same", m[1], runs)
	}
}
