package deploy_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/vigilops/vigil/internal/rollout"
	"github.com/vigilops/vigil/internal/workerapp"
	"github.com/vigilops/vigil/workflows"
)

// k8sSchemas maps a manifest's kind to its schema in deploy/testdata/k8s
// (README.md there says where they come from).
var k8sSchemas = map[string]string{
	"Deployment":   "deployment-apps-v1.schema.json",
	"ScaledObject": "scaledobject-keda-v1alpha1.schema.json",
}

// temporalTriggerKeys are the trigger metadata keys KEDA's temporal scaler
// reads (pkg/scalers/temporal_scaler.go: v2.17, and workerDeploymentName /
// workerDeploymentBuildId from v2.20). Keys it resolves from the
// environment (order=resolvedEnv) may also be given as <key>FromEnv.
var temporalTriggerKeys = []string{"endpoint", "namespace", "activationTargetQueueSize", "targetQueueSize", "taskQueue",
	"queueTypes", "buildId", "workerDeploymentName", "workerDeploymentBuildId", "selectAllActive", "selectUnversioned",
	"minConnectTimeout", "unsafeSsl", "tlsServerName",
	"endpointFromEnv", "namespaceFromEnv", "taskQueueFromEnv", "buildIdFromEnv", "workerDeploymentNameFromEnv", "workerDeploymentBuildIdFromEnv"}

// manifest is one YAML document of deploy/k8s, as JSON values.
type manifest struct {
	file string
	doc  map[string]any
}

func (m manifest) kind() string { return m.doc["kind"].(string) }
func (m manifest) name() string { return m.doc["metadata"].(map[string]any)["name"].(string) }

// loadManifests reads every document of every deploy/k8s/*.yaml, through
// JSON so that numbers are what a schema validator expects.
func loadManifests(t *testing.T) []manifest {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "deploy", "k8s", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var out []manifest
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var v any
			if err := dec.Decode(&v); errors.Is(err, io.EOF) {
				break
			} else {
				require.NoError(t, err, f)
			}
			if v == nil {
				continue
			}
			j, err := json.Marshal(v)
			require.NoError(t, err, f)
			var doc map[string]any
			require.NoError(t, json.Unmarshal(j, &doc), f)
			out = append(out, manifest{file: filepath.Base(f), doc: doc})
		}
	}
	return out
}

func compileK8sSchemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	out := map[string]*jsonschema.Schema{}
	for kind, file := range k8sSchemas {
		f, err := os.Open(filepath.Join("testdata", "k8s", file))
		require.NoError(t, err)
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		require.NoError(t, err, file)
		require.NoError(t, c.AddResource(file, doc))
		s, err := c.Compile(file)
		require.NoError(t, err, file)
		out[kind] = s
	}
	return out
}

// validate validates a manifest against its kind's schema.
func validate(schemas map[string]*jsonschema.Schema, m manifest) error {
	s, ok := schemas[m.kind()]
	if !ok {
		return errors.New("no schema for kind " + m.kind())
	}
	// The validator wants json.Unmarshal's types with json.Number numbers.
	j, err := json.Marshal(m.doc)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		return err
	}
	return s.Validate(inst)
}

// TestK8sManifests validates deploy/k8s against the Deployment and
// ScaledObject schemas and checks what ties them together: the workers'
// arguments parse with the worker's own flag parser, the heavy pool is
// versioned and serves the heavy queue, and its ScaledObject scales that
// Deployment from zero on that queue with keys KEDA's temporal scaler reads.
func TestK8sManifests(t *testing.T) {
	schemas := compileK8sSchemas(t)
	ms := loadManifests(t)
	deployments := map[string]manifest{}
	var scaled []manifest
	for _, m := range ms {
		require.NoError(t, validate(schemas, m), "%s: %s %s", m.file, m.kind(), m.name())
		switch m.kind() {
		case "Deployment":
			deployments[m.name()] = m
		case "ScaledObject":
			scaled = append(scaled, m)
		}
	}
	require.Contains(t, deployments, "vigil-worker")
	require.Contains(t, deployments, "vigil-worker-heavy")
	require.Len(t, scaled, 1)

	queues := map[string]string{}
	for name, d := range deployments {
		c := container(t, d)
		args := strArgs(c["args"])
		require.Equal(t, "worker", args[0], "%s runs the worker", name)
		cfg, err := workerapp.ParseFlags(args[1:], io.Discard)
		require.NoError(t, err, "%s: worker arguments", name)
		queues[name] = cfg.TaskQueue
		if name == "vigil-worker-heavy" {
			require.Equal(t, workflows.HeavyTaskQueue, cfg.TaskQueue)
			require.NotEmpty(t, cfg.Scale.Flows, "the heavy pool serves part of the flows")
			env := envNames(c)
			require.Contains(t, env, rollout.DeploymentNameEnv)
			require.Contains(t, env, rollout.BuildIDEnv)
		}
	}

	so := scaled[0].doc["spec"].(map[string]any)
	target := so["scaleTargetRef"].(map[string]any)
	require.Equal(t, "Deployment", target["kind"])
	require.Equal(t, "vigil-worker-heavy", target["name"])
	require.EqualValues(t, 0, so["minReplicaCount"], "scale from zero")
	triggers := so["triggers"].([]any)
	require.Len(t, triggers, 1)
	trig := triggers[0].(map[string]any)
	require.Equal(t, "temporal", trig["type"])
	md := trig["metadata"].(map[string]any)
	require.NoError(t, temporalTriggerProblem(md))
	require.Equal(t, queues["vigil-worker-heavy"], md["taskQueue"], "the trigger watches the queue the Deployment polls")
}

// temporalTriggerProblem checks a temporal trigger's metadata: known keys
// only, the required ones, integer and queue-type values.
func temporalTriggerProblem(md map[string]any) error {
	for k := range md {
		if !slices.Contains(temporalTriggerKeys, k) {
			return fmt.Errorf("metadata key %q is not one KEDA's temporal scaler reads", k)
		}
	}
	if md["endpoint"] == nil && md["endpointFromEnv"] == nil {
		return errors.New("endpoint is required")
	}
	if md["taskQueue"] == nil && md["taskQueueFromEnv"] == nil {
		return errors.New("taskQueue is required")
	}
	for _, k := range []string{"targetQueueSize", "activationTargetQueueSize", "minConnectTimeout"} {
		if v, ok := md[k]; ok {
			if n, err := strconv.ParseInt(fmt.Sprint(v), 10, 64); err != nil || n < 0 {
				return fmt.Errorf("%s %v: want a non-negative integer", k, v)
			}
		}
	}
	if v, ok := md["queueTypes"]; ok {
		for _, q := range strings.Split(fmt.Sprint(v), ",") {
			if !slices.Contains([]string{"workflow", "activity", "nexus"}, q) {
				return fmt.Errorf("queueTypes: %q is not workflow, activity or nexus", q)
			}
		}
	}
	return nil
}

func container(t *testing.T, d manifest) map[string]any {
	t.Helper()
	cs := d.doc["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)
	require.Len(t, cs, 1, d.name())
	return cs[0].(map[string]any)
}

func strArgs(v any) []string {
	var out []string
	for _, a := range v.([]any) {
		out = append(out, a.(string))
	}
	return out
}

func envNames(c map[string]any) []string {
	var out []string
	for _, e := range c["env"].([]any) {
		out = append(out, e.(map[string]any)["name"].(string))
	}
	return out
}

// TestK8sSchemasReject: the checks can fail. A misspelled ScaledObject
// field, a negative replica count, a Deployment env var with both value
// and valueFrom, and an unknown trigger key are refused.
func TestK8sSchemasReject(t *testing.T) {
	schemas := compileK8sSchemas(t)
	ms := loadManifests(t)
	find := func(kind string) manifest {
		for _, m := range ms {
			if m.kind() == kind {
				b, _ := json.Marshal(m.doc)
				var cp map[string]any
				require.NoError(t, json.Unmarshal(b, &cp))
				return manifest{file: m.file, doc: cp}
			}
		}
		t.Fatalf("no %s", kind)
		return manifest{}
	}
	so := find("ScaledObject")
	spec := so.doc["spec"].(map[string]any)
	spec["minReplicas"] = spec["minReplicaCount"]
	delete(spec, "minReplicaCount")
	require.Error(t, validate(schemas, so), "misspelled minReplicaCount")

	d := find("Deployment")
	d.doc["spec"].(map[string]any)["replicas"] = -1
	require.Error(t, validate(schemas, d), "negative replicas")

	d = find("Deployment")
	env := container(t, d)["env"].([]any)
	env[0].(map[string]any)["valueFrom"] = map[string]any{"secretKeyRef": map[string]any{"name": "s", "key": "k"}}
	require.Error(t, validate(schemas, d), "value and valueFrom")

	// queueName is what a pre-release of the scaler called taskQueue.
	require.Error(t, temporalTriggerProblem(map[string]any{"endpoint": "e:7233", "taskQueue": "q", "queueName": "q"}))
	require.Error(t, temporalTriggerProblem(map[string]any{"endpoint": "e:7233", "taskQueue": "q", "targetQueueSize": "five"}))
	require.Error(t, temporalTriggerProblem(map[string]any{"endpoint": "e:7233", "taskQueue": "q", "queueTypes": "workflows"}))
	require.Error(t, temporalTriggerProblem(map[string]any{"taskQueue": "q"}))
}
