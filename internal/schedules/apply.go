package schedules

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.yaml.in/yaml/v3"
)

// File is a declarative schedules file:
//
//	schedules:
//	  - id: nightly-dump
//	    cron: "20 * * * *"
//	    timezone: Asia/Tokyo
//	    workflow: batch
//	    input: jobs/nightly-dump.yaml
type File struct {
	// Schedules are the schedules the server should have.
	Schedules []Spec `yaml:"schedules"`
}

// ReadFile reads and validates a schedules file; inputs are resolved
// relative to the file's directory.
func ReadFile(path, taskQueue string) ([]Built, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("schedules file: %w", err)
	}
	return Parse(b, path, taskQueue)
}

// Parse reads and validates the content of the schedules file at path
// (which names the file in errors and resolves relative inputs).
func Parse(b []byte, path, taskQueue string) ([]Built, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("schedules file %s: %v", filepath.Base(path), err)
	}
	seen := map[string]bool{}
	var out []Built
	for _, s := range f.Schedules {
		if seen[s.ID] {
			return nil, fmt.Errorf("schedules file %s: schedule %s appears twice", filepath.Base(path), s.ID)
		}
		seen[s.ID] = true
		built, err := Build(s, filepath.Dir(path), taskQueue)
		if err != nil {
			return nil, fmt.Errorf("schedules file %s: %w", filepath.Base(path), err)
		}
		out = append(out, built)
	}
	return out, nil
}

// Action is what apply does to one schedule.
type Action string

// Actions of a plan.
const (
	Create    Action = "create"
	Update    Action = "update"
	Unchanged Action = "unchanged"
	Delete    Action = "delete"
)

// Step is one line of a plan.
type Step struct {
	Action Action `json:"action"`
	ID     string `json:"id"`
	// Changes lists what an update changes, one field a line
	// ("cron: 0 3 * * * → 0 4 * * *", "paused: true → false").
	Changes []string `json:"changes,omitempty"`
	// Built is the desired schedule (nil for Delete).
	Built *Built `json:"-"`
}

// Plan compares the desired schedules with the server's. With prune, vigil
// managed schedules missing from desired are deleted; others are never
// touched.
func Plan(ctx context.Context, c client.Client, desired []Built, prune bool) ([]Step, error) {
	sc := c.ScheduleClient()
	var steps []Step
	want := map[string]bool{}
	for i := range desired {
		d := &desired[i]
		want[d.Spec.ID] = true
		desc, err := sc.GetHandle(ctx, d.Spec.ID).Describe(ctx)
		var nf *serviceerror.NotFound
		switch {
		case errors.As(err, &nf):
			steps = append(steps, Step{Action: Create, ID: d.Spec.ID, Built: d})
		case err != nil:
			return nil, fmt.Errorf("describing schedule %s: %w", d.Spec.ID, err)
		default:
			if changes := Changes(desc, *d); len(changes) > 0 {
				steps = append(steps, Step{Action: Update, ID: d.Spec.ID, Built: d, Changes: changes})
			} else {
				steps = append(steps, Step{Action: Unchanged, ID: d.Spec.ID, Built: d})
			}
		}
	}
	if prune {
		iter, err := sc.List(ctx, client.ScheduleListOptions{})
		if err != nil {
			return nil, fmt.Errorf("listing schedules: %w", err)
		}
		var extra []string
		for iter.HasNext() {
			e, err := iter.Next()
			if err != nil {
				return nil, fmt.Errorf("listing schedules: %w", err)
			}
			if !want[e.ID] && IsManaged(e.Memo) {
				extra = append(extra, e.ID)
			}
		}
		sort.Strings(extra)
		for _, id := range extra {
			steps = append(steps, Step{Action: Delete, ID: id})
		}
	}
	return steps, nil
}

// Apply carries out a plan, stopping at the first error.
func Apply(ctx context.Context, c client.Client, steps []Step) error {
	sc := c.ScheduleClient()
	for _, st := range steps {
		var err error
		switch st.Action {
		case Create:
			_, err = sc.Create(ctx, st.Built.Options)
		case Update:
			err = Replace(ctx, c, *st.Built)
		case Delete:
			err = sc.GetHandle(ctx, st.ID).Delete(ctx)
		}
		if err != nil {
			return fmt.Errorf("%s schedule %s: %w", st.Action, st.ID, err)
		}
	}
	return nil
}

// Replace updates an existing schedule to match b entirely (spec, action,
// policies, note), and its pause state only when b's spec sets paused.
func Replace(ctx context.Context, c client.Client, b Built) error {
	o := b.Options
	return c.ScheduleClient().GetHandle(ctx, o.ID).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := in.Description.Schedule
			s.Action = o.Action
			spec := o.Spec
			s.Spec = &spec
			if s.Policy == nil {
				s.Policy = &client.SchedulePolicies{}
			}
			s.Policy.Overlap = o.Overlap
			s.Policy.CatchupWindow = o.CatchupWindow
			s.Policy.PauseOnFailure = o.PauseOnFailure
			if s.State == nil {
				s.State = &client.ScheduleState{}
			}
			s.State.Note = o.Note
			if b.Spec.Paused != nil {
				s.State.Paused = *b.Spec.Paused
			}
			return &client.ScheduleUpdate{Schedule: &s}, nil
		},
	})
}

// IsManaged reports whether a schedule's memo marks it as vigil's.
func IsManaged(m *commonpb.Memo) bool {
	if m == nil {
		return false
	}
	var v bool
	p, ok := m.Fields[ManagedMemo]
	return ok && converter.GetDefaultDataConverter().FromPayload(p, &v) == nil && v
}

// actionHash reads the spec hash from a described schedule's action memo.
func actionHash(d *client.ScheduleDescription) string { return actionMemoString(d, SpecMemo) }
