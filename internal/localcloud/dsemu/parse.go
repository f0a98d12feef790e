package dsemu

import (
	"net/url"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// checkProject applies the project id rules loosely: non-empty, no '/'.
func checkProject(p string) error {
	if p == "" || strings.ContainsAny(p, "/ ") {
		return status.Errorf(codes.InvalidArgument, "project_id %q is not a project id", p)
	}
	return nil
}

// parseGS checks a gs://bucket[/path] URL.
func parseGS(raw, field string) (bucket, path string, err error) {
	u, perr := url.Parse(raw)
	if perr != nil || u.Scheme != "gs" || u.Host == "" {
		return "", "", status.Errorf(codes.InvalidArgument, "%s %q: want gs://BUCKET[/PATH]", field, raw)
	}
	return u.Host, strings.Trim(u.Path, "/"), nil
}

// entitiesLabel reads LabelEntities, or returns def.
func entitiesLabel(labels map[string]string, def int64) (int64, error) {
	v, ok := labels[LabelEntities]
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, status.Errorf(codes.InvalidArgument, "label %s=%q: want a number of entities", LabelEntities, v)
	}
	return n, nil
}

// parseFilter reads `labels.k=v [AND labels.k2=v2]` (values may be quoted).
func parseFilter(f string) (map[string]string, error) {
	want := map[string]string{}
	if strings.TrimSpace(f) == "" {
		return want, nil
	}
	for _, term := range strings.Split(f, " AND ") {
		k, v, ok := strings.Cut(term, "=")
		k = strings.TrimSpace(k)
		key, isLabel := strings.CutPrefix(k, "labels.")
		if !ok || !isLabel || key == "" {
			return nil, status.Errorf(codes.InvalidArgument, "filter %q: the emulator supports labels.KEY=VALUE terms joined by AND", f)
		}
		want[key] = strings.Trim(strings.TrimSpace(v), `"`)
	}
	return want, nil
}

func matches(labels, want map[string]string) bool {
	for k, v := range want {
		if labels[k] != v {
			return false
		}
	}
	return true
}
