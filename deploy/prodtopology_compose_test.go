package deploy_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/require"
)

// prodScript is the script that runs the compose topology without Docker.
const prodScript = "scripts/prod-topology.sh"

// topologyPlan is what `prod-topology.sh plan` prints: per service, its
// command line, its environment and its published ports (container → host).
type topologyPlan struct {
	args  map[string][]string
	env   map[string]map[string]string
	ports map[string]map[int]int
}

// composePorts are the host ports the compose file publishes, given to the
// script so that a port agreeing with the compose file agrees literally.
var composePorts = map[string]string{
	"PROD_PG_PORT": "5432", "PROD_TEMPORAL_PORT": "7233", "PROD_UI_PORT": "8233",
	"PROD_CLOUD_PORT": "4566", "PROD_METRICS_PORT": "9090",
}

// loadPlan runs the script's plan (nothing is started or bound) with the
// compose file's ports and the state directory dir.
func loadPlan(t *testing.T, dir string) topologyPlan {
	t.Helper()
	cmd := exec.Command("bash", filepath.Join(repoRoot, prodScript), "plan")
	cmd.Env = append(os.Environ(), "PROD_DIR="+dir, "POSTGRES_PASSWORD=", "VIGIL_CODEC_KEYS=", "TEMPORAL_CODEC_ENDPOINT=", "VIGIL_DATASTORE_ENDPOINT=")
	for k, v := range composePorts {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "%s plan: %s", prodScript, stderr.String())
	p := topologyPlan{args: map[string][]string{}, env: map[string]map[string]string{}, ports: map[string]map[int]int{}}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), "\t", 3)
		require.Len(t, f, 3, "plan line %q", sc.Text())
		svc, kind, v := f[0], f[1], f[2]
		switch kind {
		case "arg":
			p.args[svc] = append(p.args[svc], v)
		case "env":
			k, val, ok := strings.Cut(v, "=")
			require.True(t, ok, "plan env %q", v)
			if p.env[svc] == nil {
				p.env[svc] = map[string]string{}
			}
			p.env[svc][k] = val
		case "port":
			c, h, ok := strings.Cut(v, "=")
			require.True(t, ok, "plan port %q", v)
			cn, err := strconv.Atoi(c)
			require.NoError(t, err)
			hn, err := strconv.Atoi(h)
			require.NoError(t, err)
			if p.ports[svc] == nil {
				p.ports[svc] = map[int]int{}
			}
			p.ports[svc][cn] = hn
		default:
			t.Fatalf("plan line of unknown kind %q", sc.Text())
		}
	}
	return p
}

// fromCompose maps a value of the compose file to the script's: the
// services' names become 127.0.0.1 (everything runs on one host) and a
// container's wildcard bind address becomes loopback.
var fromCompose = strings.NewReplacer(
	"temporal:", "127.0.0.1:", "//cloud:", "//127.0.0.1:", "0.0.0.0", "127.0.0.1")

// TestProdTopologyAgreesWithCompose checks that scripts/prod-topology.sh
// runs what docker-compose.yml runs: the same services, the vigil images'
// command lines (parsed with the worker's flags), every environment
// variable the compose file sets, the published ports, the setup scripts
// and dynamic config through their mounts, and the Temporal images' versions
// as the modules the script builds them from.
func TestProdTopologyAgreesWithCompose(t *testing.T) {
	p := loadCompose(t)
	dir := t.TempDir()
	plan := loadPlan(t, dir)

	var want []string
	for n := range p.Services {
		want = append(want, n)
	}
	var got []string
	for n := range plan.env {
		got = append(got, n)
	}
	for n := range plan.args {
		if _, ok := plan.env[n]; !ok {
			got = append(got, n)
		}
	}
	require.ElementsMatch(t, want, got, "services of the compose file and the script")

	// The vigil image's command lines, parsed with the worker's flags.
	for _, n := range []string{"cloud", "worker"} {
		composeCfg := parseWorker(t, service(t, p, n).Command)
		scriptCfg := parseWorker(t, plan.args[n])
		if composeCfg.Ops.CloudOnly {
			require.Equal(t, "0.0.0.0", composeCfg.Ops.CloudBind)
			require.Equal(t, "127.0.0.1", scriptCfg.Ops.CloudBind, "the script binds loopback")
			require.Equal(t, filepath.Join(dir, "cloud-data"), scriptCfg.DataDir)
			composeCfg.Ops.CloudBind, composeCfg.DataDir = scriptCfg.Ops.CloudBind, scriptCfg.DataDir
		}
		composeCfg.Ops.MetricsAddr = fromCompose.Replace(composeCfg.Ops.MetricsAddr)
		require.Equal(t, composeCfg, scriptCfg, "%s: the script's command line %q", n, plan.args[n])
	}
	// The Temporal images' entrypoints: `temporal-server start` (server
	// image) and `./ui-server --env docker start` (ui image).
	require.Equal(t, []string{"temporal-server", "start"}, plan.args["temporal"])
	require.Equal(t, "ui-server", plan.args["ui"][0])
	require.Equal(t, []string{"--env", "docker", "start"}, plan.args["ui"][len(plan.args["ui"])-3:])

	// Every variable the compose file sets, with the same value once its
	// service names and ports are mapped; the script adds only these.
	extra := map[string][]string{
		"temporal-setup-schema": {"TEMPORAL_SCHEMA_DIR"}, // the image has the schema at /etc/temporal/schema
		"ui":                    {"TEMPORAL_UI_PORT"},    // the image listens on 8080, published as 8233
		"temporal": {"FRONTEND_HTTP_PORT", "FRONTEND_MEMBERSHIP_PORT", "HISTORY_GRPC_PORT", "HISTORY_MEMBERSHIP_PORT",
			"MATCHING_GRPC_PORT", "MATCHING_MEMBERSHIP_PORT", "WORKER_GRPC_PORT", "WORKER_MEMBERSHIP_PORT",
			"FRONTEND_GRPC_PORT"}, // internal ports: one host runs every service, so none may clash
	}
	for n, s := range p.Services {
		for k, v := range s.Environment {
			require.NotNil(t, v, "%s: %s has no value", n, k)
			sv, ok := plan.env[n][k]
			require.True(t, ok, "%s: the script does not set %s", n, k)
			switch k {
			case "POSTGRES_SEEDS":
				require.Equal(t, "postgresql", *v)
				require.Equal(t, "127.0.0.1", sv)
			case "DYNAMIC_CONFIG_FILE_PATH":
				require.Equal(t, hostPath(t, s, *v), sv, "%s: the dynamic config file", n)
			default:
				require.Equal(t, fromCompose.Replace(*v), sv, "%s: %s", n, k)
			}
		}
		for k := range plan.env[n] {
			if _, ok := s.Environment[k]; !ok {
				require.Contains(t, extra[n], k, "%s: the script sets %s, which the compose file does not", n, k)
			}
		}
	}

	// The published ports: the script's host port for each container port
	// is the compose file's (the script was given the compose file's ports).
	for n, ports := range plan.ports {
		for c, h := range ports {
			require.Equal(t, h, publishedPort(t, service(t, p, n), c), "%s: container port %d", n, c)
		}
	}
	for n, s := range p.Services {
		for _, port := range s.Ports {
			require.Contains(t, plan.ports[n], int(port.Target), "%s: the script does not serve container port %d", n, port.Target)
		}
	}

	// The schema job runs the compose file's own script, through its mount.
	schema := service(t, p, "temporal-setup-schema")
	require.Equal(t, "/bin/sh", schema.Entrypoint[0])
	require.Equal(t, []string{"/bin/sh", hostPath(t, schema, schema.Entrypoint[1])}, plan.args["temporal-setup-schema"])
	// The namespace job: the compose file's script needs the Temporal CLI,
	// whose module the Go proxy cannot build; the script runs the same two
	// steps in Go (scripts/prod-topology/setup-namespace).
	require.Equal(t, []string{"setup-namespace"}, plan.args["temporal-setup-namespace"])
	ns, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "compose", "setup-namespace.sh"))
	require.NoError(t, err)
	require.Contains(t, string(ns), `--retention "${RETENTION:-72h}"`, "setup-namespace.sh's retention is the Go step's default")
	require.Contains(t, string(ns), "--type Keyword", "setup-namespace.sh's search attributes are Keyword, as the Go step's")

	// The images' versions are the modules' the script builds.
	gomod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	require.NoError(t, err)
	for n, mod := range map[string]string{"temporal": "go.temporal.io/server", "temporal-setup-schema": "go.temporal.io/server",
		"ui": "github.com/temporalio/ui-server/v2"} {
		img := service(t, p, n).Image
		_, tag, ok := strings.Cut(img, ":")
		require.True(t, ok, "%s: image %q has no tag", n, img)
		require.Regexp(t, regexp.MustCompile(`(?m)^\s*`+regexp.QuoteMeta(mod)+` v`+regexp.QuoteMeta(tag)+`\b`), string(gomod),
			"%s runs %s; go.mod must pin %s at that version", n, img, mod)
	}
}

// hostPath maps a path inside service s's container to the repository file
// mounted there (a bind mount of s's volumes).
func hostPath(t *testing.T, s types.ServiceConfig, inContainer string) string {
	t.Helper()
	for _, v := range s.Volumes {
		if v.Type != types.VolumeTypeBind {
			continue
		}
		if rel, err := filepath.Rel(v.Target, inContainer); err == nil && !strings.HasPrefix(rel, "..") {
			abs, err := filepath.Abs(filepath.Join(v.Source, rel))
			require.NoError(t, err)
			return abs
		}
	}
	t.Fatalf("%s: nothing is mounted at %s", s.Name, inContainer)
	return ""
}
