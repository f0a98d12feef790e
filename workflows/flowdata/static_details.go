package flowdata

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/vigilops/vigil/internal/location"
)

// Limits of StaticDetails: a run's static details are stored in clear with
// its start and shown on its page, so they stay short.
const (
	staticDetailsItems = 40
	staticDetailsValue = 200
)

// secretMaps are input fields whose map values may carry credentials
// (HTTP headers, exec environments): the details show their keys only.
var secretMaps = []string{"headers", "env"}

// StaticDetails is the Markdown the Web UI shows as a run's "Details": one
// list item per input field (nested fields as a.b, in name order), each
// value redacted — URLs by location.RedactText, the values of header and
// environment maps and of fields named like a credential (credentialField)
// replaced by REDACTED. It is "" for an input that is not a JSON object.
// Every starter of vigil runs sets it next to StaticSummary.
func StaticDetails(input any) string {
	b, err := json.Marshal(input)
	if err != nil {
		return ""
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if d.Decode(&m) != nil || len(m) == 0 {
		return ""
	}
	var items []string
	flattenDetails("", m, false, &items)
	if len(items) > staticDetailsItems {
		items = append(items[:staticDetailsItems], fmt.Sprintf("- … and %d more", len(items)-staticDetailsItems))
	}
	return "**Inputs**\n\n" + strings.Join(items, "\n")
}

// flattenDetails appends one item per leaf of v under prefix; secret
// replaces every leaf value with REDACTED.
func flattenDetails(prefix string, v any, secret bool, items *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			name := k
			if prefix != "" {
				name = prefix + "." + k
			}
			flattenDetails(name, x[k], secret || slices.Contains(secretMaps, strings.ToLower(k)) || credentialField(k), items)
		}
	case []any:
		for i, e := range x {
			flattenDetails(fmt.Sprintf("%s[%d]", prefix, i), e, secret, items)
		}
	case nil:
	default:
		s := fmt.Sprint(x)
		if secret {
			s = location.Redacted
		} else {
			s = location.RedactText(s)
		}
		if len(s) > staticDetailsValue {
			s = s[:staticDetailsValue] + "…"
		}
		s = strings.NewReplacer("`", "'", "\n", " ", "\r", " ").Replace(s)
		*items = append(*items, "- **"+prefix+"**: `"+s+"`")
	}
}

// credentialWords mark a field that may hold a credential itself.
var credentialWords = []string{"password", "secret", "token", "credential", "apikey", "api_key", "authorization", "session"}

// credentialField tells whether a field named k may hold a credential: its
// name has a credential word, and it is not a *Env field (those name the
// worker's environment variable holding it).
func credentialField(k string) bool {
	n := strings.ToLower(k)
	if strings.HasSuffix(n, "env") {
		return false
	}
	for _, w := range credentialWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}
