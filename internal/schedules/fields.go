package schedules

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
)

// specFields renders the fields of s that define the schedule, as the
// plan names them; the input (the resolved file and the runs' summary) is
// one field, a short hash; taskQueue is where the runs go (the spec's, the
// input's or the starter's). The result is stored as JSON in FieldsMemo.
func specFields(s Spec, args []any, summary, taskQueue string) (string, error) {
	in, err := json.Marshal(struct {
		Args    []any
		Summary string `json:",omitempty"`
	}{args, summary})
	if err != nil {
		return "", fmt.Errorf("cannot hash the schedule's input: %v", err)
	}
	sum := sha256.Sum256(in)
	dur := func(d interface{ String() string }, zero bool) string {
		if zero {
			return ""
		}
		return d.String()
	}
	m := map[string]string{
		"cron":           s.Cron,
		"every":          dur(s.Every, s.Every == 0),
		"offset":         dur(s.Offset, s.Offset == 0),
		"timezone":       s.Timezone,
		"jitter":         dur(s.Jitter, s.Jitter == 0),
		"startAt":        s.StartAt,
		"endAt":          s.EndAt,
		"workflow":       s.Workflow,
		"input":          hex.EncodeToString(sum[:6]),
		"overlap":        s.Overlap,
		"catchupWindow":  dur(s.CatchupWindow, s.CatchupWindow == 0),
		"pauseOnFailure": map[bool]string{true: "true"}[s.PauseOnFailure],
		"note":           s.Note,
		"taskQueue":      taskQueue,
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// Changes lists what applying b would change on the described schedule:
// each definition field that differs ("cron: 0 3 * * * → 0 4 * * *"), then
// the pause state when b's spec sets one that differs from the server's.
// An empty list means the schedule is unchanged.
func Changes(desc *client.ScheduleDescription, b Built) []string {
	var out []string
	if actionHash(desc) != b.Hash {
		out = fieldChanges(actionMemoString(desc, FieldsMemo), actionMemoString(&client.ScheduleDescription{
			Schedule: client.Schedule{Action: b.Options.Action}}, FieldsMemo))
	}
	live := desc.Schedule.State != nil && desc.Schedule.State.Paused
	if p := b.Spec.Paused; p != nil && *p != live {
		out = append(out, fmt.Sprintf("paused: %v → %v", live, *p))
	}
	return out
}

// fieldChanges compares two FieldsMemo values; a schedule made before
// fields were recorded changes as a whole ("definition").
func fieldChanges(have, want string) []string {
	var h, w map[string]string
	if json.Unmarshal([]byte(have), &h) != nil || json.Unmarshal([]byte(want), &w) != nil || h == nil {
		return []string{"definition (recorded by an older starter: fields unknown)"}
	}
	keys := make([]string, 0, len(w))
	for k := range w {
		keys = append(keys, k)
	}
	for k := range h {
		if _, ok := w[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	unset := func(v string) string {
		if v == "" {
			return "(unset)"
		}
		return v
	}
	var out []string
	for _, k := range keys {
		switch {
		case h[k] == w[k]:
		case k == "input":
			out = append(out, "input: changed (the input file or its content)")
		default:
			out = append(out, fmt.Sprintf("%s: %s → %s", k, unset(h[k]), unset(w[k])))
		}
	}
	if len(out) == 0 {
		// Same fields, another hash: something the fields do not show.
		out = []string{"definition"}
	}
	return out
}

// actionMemoString reads a string memo of a described (or built)
// schedule's workflow action ("" when absent).
func actionMemoString(d *client.ScheduleDescription, key string) string {
	a, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction)
	if !ok {
		return ""
	}
	var s string
	switch v := a.Memo[key].(type) {
	case *commonpb.Payload:
		_ = converter.GetDefaultDataConverter().FromPayload(v, &s)
	case string:
		s = v
	}
	return s
}
