package main

import (
	"encoding/json"

	"github.com/vigilops/vigil/internal/location"
)

// redactValue returns v, a decoded payload (JSON-like maps, slices and
// scalars), with location.RedactText applied to every string in it: a
// result may carry the full URL a run needed (a restore's presigned
// target), and what the CLI prints never does.
func redactValue(v any) any {
	switch x := v.(type) {
	case string:
		return location.RedactText(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = redactValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactValue(e)
		}
		return out
	default:
		return v
	}
}

// redactJSON returns v as JSON-like values (what encoding/json makes of
// it) with redactValue applied: a spec the CLI prints (a bound pipeline's
// processor URL) keeps its shape and loses what its queries carry.
func redactJSON(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return redactValue(out), nil
}
