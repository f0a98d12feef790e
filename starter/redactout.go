package main

import "github.com/vigilops/vigil/internal/location"

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
