package deploy_test

import (
	"context"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/require"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/workerapp"
	"github.com/vigilops/vigil/workflows"
)

const repoRoot = ".."

// loadCompose loads docker-compose.yml as `docker compose` would, with an
// empty environment (the file's defaults) and the given profiles.
func loadCompose(t *testing.T, profiles ...string) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{filepath.Join(repoRoot, "docker-compose.yml")},
		cli.WithWorkingDirectory(repoRoot), cli.WithEnv(nil), cli.WithProfiles(profiles), cli.WithResolvedPaths(true))
	require.NoError(t, err)
	p, err := opts.LoadProject(context.Background())
	require.NoError(t, err, "docker-compose.yml does not load")
	return p
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	require.NoError(t, err, "service %s", name)
	return s
}

// publishedPort is the host port mapped to target (0 when none).
func publishedPort(t *testing.T, s types.ServiceConfig, target int) int {
	t.Helper()
	for _, p := range s.Ports {
		if int(p.Target) == target {
			n, err := strconv.Atoi(p.Published)
			require.NoError(t, err)
			return n
		}
	}
	return 0
}

// parseWorker parses a worker command line (first word "worker") with the
// worker's own flag set.
func parseWorker(t *testing.T, argv []string) workerapp.Config {
	t.Helper()
	require.NotEmpty(t, argv)
	require.Equal(t, "worker", argv[0], "command %q", argv)
	cfg, err := workerapp.ParseFlags(argv[1:], io.Discard)
	require.NoError(t, err, "worker %q", argv[1:])
	return cfg
}

func portOf(t *testing.T, hostport string) int {
	t.Helper()
	_, p, ok := strings.Cut(hostport, ":")
	require.True(t, ok, "%q has no port", hostport)
	n, err := strconv.Atoi(p)
	require.NoError(t, err)
	return n
}

func TestComposeDeployment(t *testing.T) {
	p := loadCompose(t)
	var names []string
	for n := range p.Services {
		names = append(names, n)
	}
	for _, want := range []string{"postgresql", "temporal-setup-schema", "temporal", "temporal-setup-namespace", "ui", "cloud", "worker"} {
		require.Contains(t, names, want)
	}
	for _, optional := range []string{"dev", "codec", "starter"} {
		require.NotContains(t, names, optional, "%s is behind a profile: `docker compose up` must not start it", optional)
	}

	// Long-running services have health checks.
	for _, n := range []string{"postgresql", "temporal", "ui", "cloud", "worker"} {
		hc := service(t, p, n).HealthCheck
		require.NotNil(t, hc, "%s has no healthcheck", n)
		require.False(t, hc.Disable)
		require.NotEmpty(t, hc.Test, "%s healthcheck", n)
	}

	// Start order: schema after the database, server after the schema,
	// namespace + search attributes after the server, worker after both
	// the namespace setup and the cloud.
	deps := map[string]map[string]string{
		"temporal-setup-schema":    {"postgresql": types.ServiceConditionHealthy},
		"temporal":                 {"temporal-setup-schema": types.ServiceConditionCompletedSuccessfully},
		"temporal-setup-namespace": {"temporal": types.ServiceConditionHealthy},
		"ui":                       {"temporal": types.ServiceConditionHealthy},
		"worker": {"temporal-setup-namespace": types.ServiceConditionCompletedSuccessfully,
			"cloud": types.ServiceConditionHealthy},
	}
	for n, want := range deps {
		got := service(t, p, n).DependsOn
		for dep, cond := range want {
			require.Contains(t, got, dep, "%s depends_on", n)
			require.Equal(t, cond, got[dep].Condition, "%s depends_on %s", n, dep)
		}
	}

	// Named volumes for every piece of state.
	for n, path := range map[string]string{"postgresql": "/var/lib/postgresql/data", "cloud": "/data", "worker": "/data"} {
		s := service(t, p, n)
		i := slices.IndexFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool { return v.Target == path })
		require.GreaterOrEqual(t, i, 0, "%s has no volume at %s", n, path)
		require.Equal(t, types.VolumeTypeVolume, s.Volumes[i].Type, "%s: %s is a named volume", n, path)
		require.Contains(t, p.Volumes, s.Volumes[i].Source)
	}

	// The images: the official Temporal ones, vigil built from the Dockerfile.
	require.True(t, strings.HasPrefix(service(t, p, "temporal").Image, "temporalio/server:"))
	require.True(t, strings.HasPrefix(service(t, p, "temporal-setup-schema").Image, "temporalio/admin-tools:"))
	require.True(t, strings.HasPrefix(service(t, p, "ui").Image, "temporalio/ui:"))
	for _, n := range []string{"cloud", "worker"} {
		b := service(t, p, n).Build
		require.NotNil(t, b, "%s is built", n)
		_, err := os.Stat(filepath.Join(b.Context, b.Dockerfile))
		require.NoError(t, err, "%s: build context + Dockerfile", n)
		df, err := os.ReadFile(filepath.Join(b.Context, b.Dockerfile))
		require.NoError(t, err)
		require.Contains(t, string(df), " AS "+b.Target, "Dockerfile has the stage %s", b.Target)
	}

	// The setup scripts exist and register vigil's search attributes.
	script, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "compose", "setup-namespace.sh"))
	require.NoError(t, err)
	for _, sa := range workflows.SearchAttributes {
		require.Contains(t, string(script), sa)
	}
	_, err = os.Stat(filepath.Join(repoRoot, "deploy", "compose", "setup-postgres.sh"))
	require.NoError(t, err)

	// The worker's and the cloud's command lines parse with the worker's
	// flags, and agree with the published ports and the worker's env.
	temporal := service(t, p, "temporal")
	require.Equal(t, 7233, publishedPort(t, temporal, 7233))
	require.Equal(t, 8233, publishedPort(t, service(t, p, "ui"), 8080))

	cloud := service(t, p, "cloud")
	cc := parseWorker(t, cloud.Command)
	require.True(t, cc.Ops.CloudOnly)
	require.Equal(t, "0.0.0.0", cc.Ops.CloudBind, "the cloud must listen beyond the container's loopback")
	require.Equal(t, 4566, publishedPort(t, cloud, cc.CloudPort))
	probe := parseWorker(t, cloud.HealthCheck.Test[1:])
	require.Equal(t, strconv.Itoa(cc.CloudPort), mustURL(t, probe.Ops.Probe).Port())

	w := service(t, p, "worker")
	wc := parseWorker(t, w.Command)
	require.False(t, wc.Dev)
	require.False(t, wc.Ops.CloudOnly)
	require.Equal(t, 9090, publishedPort(t, w, portOf(t, wc.Ops.MetricsAddr)))
	probe = parseWorker(t, w.HealthCheck.Test[1:])
	require.Equal(t, strconv.Itoa(portOf(t, wc.Ops.MetricsAddr)), mustURL(t, probe.Ops.Probe).Port())
	require.Equal(t, "/healthz", mustURL(t, probe.Ops.Probe).Path)
	env := func(k string) string {
		v := w.Environment[k]
		require.NotNil(t, v, "worker env %s", k)
		return *v
	}
	require.Equal(t, "temporal:7233", env("TEMPORAL_ADDRESS"))
	require.Equal(t, "http://cloud:"+strconv.Itoa(cc.CloudPort), env("AWS_ENDPOINT_URL"))
	require.NotEmpty(t, env("AWS_REGION"))
	require.Equal(t, "http://cloud:"+strconv.Itoa(cc.CloudPort)+"/_slack/vigil", env(activities.DefaultSlackWebhookEnv))

	// README documents every published port next to its service.
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	require.NoError(t, err)
	section := readmeSection(t, string(readme), "## Deployment with Docker Compose")
	all := loadCompose(t, "*")
	for n, s := range all.Services {
		for _, port := range s.Ports {
			if n == "dev" {
				continue
			}
			line := lineWith(section, "`"+n+"`")
			require.NotEmpty(t, line, "README's compose section does not list the service %s", n)
			require.Contains(t, line, port.Published, "README's line for %s: %q", n, line)
		}
	}
	for _, k := range []string{"TEMPORAL_ADDRESS", "AWS_ENDPOINT_URL"} {
		require.Contains(t, section, k)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

// readmeSection is the text from heading to the next "## " heading.
func readmeSection(t *testing.T, readme, heading string) string {
	t.Helper()
	i := strings.Index(readme, heading+"\n")
	require.GreaterOrEqual(t, i, 0, "README has no %q section", heading)
	rest := readme[i+len(heading):]
	if j := strings.Index(rest, "\n## "); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

func lineWith(text, sub string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

// TestComposeProfiles checks the optional services: the codec server, the
// CLI and the one-process dev stack.
func TestComposeProfiles(t *testing.T) {
	p := loadCompose(t, "*")
	codec := service(t, p, "codec")
	require.Equal(t, []string{"encryption"}, codec.Profiles)
	require.Equal(t, "starter", codec.Command[0])
	require.Equal(t, "codec-server", codec.Command[1])
	i := slices.Index(codec.Command, "--port")
	require.Greater(t, i, 0)
	port, err := strconv.Atoi(codec.Command[i+1])
	require.NoError(t, err)
	require.Equal(t, 8234, publishedPort(t, codec, port))
	require.Equal(t, []string{"starter"}, []string(service(t, p, "starter").Entrypoint))
	dev := service(t, p, "dev")
	require.Contains(t, []string(dev.Command), "--dev")
}
