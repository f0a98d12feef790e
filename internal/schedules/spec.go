// Package schedules turns vigil schedule specs (from `starter schedule`
// flags or a declarative schedules file) into Temporal Schedules, and plans
// and applies a file against what the server has.
package schedules

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.yaml.in/yaml/v3"

	"github.com/vigilops/vigil/internal/catalog"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// Memo keys vigil sets. ManagedMemo marks schedules vigil created (apply
// --prune only ever deletes those); SpecMemo, on the schedule's workflow
// action, is the hash of the spec that produced it, so apply can tell an
// unchanged schedule without comparing the server's normalized form.
const (
	ManagedMemo = "vigil-managed"
	SpecMemo    = "vigil-schedule-spec"
	// FieldsMemo, on the action too, holds the spec's fields (fields.go) so
	// that a plan names each field that changes.
	FieldsMemo = "vigil-schedule-fields"
)

// Overlap policy names as users type them.
var overlapPolicies = map[string]enumspb.ScheduleOverlapPolicy{
	"skip":            enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
	"buffer-one":      enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE,
	"buffer-all":      enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL,
	"cancel-other":    enumspb.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER,
	"terminate-other": enumspb.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER,
	"allow-all":       enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL,
}

// OverlapNames lists the accepted overlap policy names.
func OverlapNames() []string {
	names := make([]string, 0, len(overlapPolicies))
	for n := range overlapPolicies {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ParseOverlap maps a user-typed policy name ("" means skip).
func ParseOverlap(name string) (enumspb.ScheduleOverlapPolicy, error) {
	if name == "" {
		return enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, nil
	}
	p, ok := overlapPolicies[strings.ToLower(name)]
	if !ok {
		return 0, fmt.Errorf("overlap policy %q: want one of %s", name, strings.Join(OverlapNames(), ", "))
	}
	return p, nil
}

// OverlapName is the user-facing name of a policy.
func OverlapName(p enumspb.ScheduleOverlapPolicy) string {
	for n, v := range overlapPolicies {
		if v == p {
			return n
		}
	}
	return "skip"
}

// Spec is one schedule as a user writes it.
type Spec struct {
	// ID of the schedule.
	ID string `yaml:"id" json:"id"`
	// Cron is a 5-field cron expression (or @daily, @hourly, ...).
	Cron string `yaml:"cron,omitempty" json:"cron,omitempty"`
	// Every is an interval ("5m").
	Every flowdata.Duration `yaml:"every,omitempty" json:"every,omitempty"`
	// Offset shifts the phase of Every ("every: 1h, offset: 20m").
	Offset flowdata.Duration `yaml:"offset,omitempty" json:"offset,omitempty"`
	// Timezone is an IANA zone name for Cron; empty means UTC.
	Timezone string `yaml:"timezone,omitempty" json:"timezone,omitempty"`
	// Workflow is a catalog kind ("batch", ...).
	Workflow string `yaml:"workflow" json:"workflow"`
	// Input is a path (relative to the schedules file) or the input inline.
	Input yaml.Node `yaml:"input" json:"-"`
	// Overlap is the overlap policy name; empty means skip.
	Overlap string `yaml:"overlap,omitempty" json:"overlap,omitempty"`
	// CatchupWindow bounds how late a missed run may still start; 0 means
	// Temporal's default (1 year).
	CatchupWindow flowdata.Duration `yaml:"catchupWindow,omitempty" json:"catchupWindow,omitempty"`
	// Jitter delays each run by a random amount up to this.
	Jitter flowdata.Duration `yaml:"jitter,omitempty" json:"jitter,omitempty"`
	// PauseOnFailure pauses the schedule when a run fails.
	PauseOnFailure bool `yaml:"pauseOnFailure,omitempty" json:"pauseOnFailure,omitempty"`
	// StartAt is when the schedule begins (RFC 3339).
	StartAt string `yaml:"startAt,omitempty" json:"startAt,omitempty"`
	// EndAt is when the schedule ends (RFC 3339).
	EndAt string `yaml:"endAt,omitempty" json:"endAt,omitempty"`
	// Note is shown with the schedule (and as the pause reason).
	Note string `yaml:"note,omitempty" json:"note,omitempty"`
	// Paused, when set, is the pause state apply gives the schedule; unset,
	// apply leaves a schedule's pause state as it is (a new one starts
	// unpaused). Pause is state, not definition: it is not in the hash.
	Paused *bool `yaml:"paused,omitempty" json:"paused,omitempty"`
	// TaskQueue routes the runs to this task queue; empty takes the one
	// the input's file names (`taskQueue:` of a job or pipeline), else the
	// starter's.
	TaskQueue string `yaml:"taskQueue,omitempty" json:"taskQueue,omitempty"`
}

// Built is a validated spec ready for the server.
type Built struct {
	Spec    Spec
	Options client.ScheduleOptions
	// Hash identifies the spec and its resolved input.
	Hash string
	// Kind is the catalog kind of the action.
	Kind catalog.Kind
	// Target is the action's VigilTarget.
	Target string
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$`)

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ValidateCron checks a 5-field cron expression (or @daily, @hourly, ...).
func ValidateCron(expr string) error {
	_, err := cronParser.Parse(expr)
	return err
}

// Build validates s and builds the schedule options. Relative input paths
// are resolved against baseDir.
func Build(s Spec, baseDir, taskQueue string) (Built, error) {
	fail := func(format string, args ...any) (Built, error) {
		return Built{}, fmt.Errorf("schedule %s: %s", s.ID, fmt.Sprintf(format, args...))
	}
	if !idRE.MatchString(s.ID) {
		return Built{}, fmt.Errorf("schedule id %q: want letters, digits, '.', '_' or '-'", s.ID)
	}
	sp := client.ScheduleSpec{}
	switch {
	case s.Cron != "" && s.Every > 0:
		return fail("give either cron or every, not both")
	case s.Cron != "":
		if err := ValidateCron(s.Cron); err != nil {
			return fail("cron %q: %v", s.Cron, err)
		}
		sp.CronExpressions = []string{s.Cron}
	case s.Every > 0:
		if s.Every.D() < time.Second {
			return fail("every %s: must be at least 1s", s.Every)
		}
		if s.Offset.D() >= s.Every.D() {
			return fail("offset %s must be shorter than every %s", s.Offset, s.Every)
		}
		sp.Intervals = []client.ScheduleIntervalSpec{{Every: s.Every.D(), Offset: s.Offset.D()}}
	default:
		return fail("needs cron or every")
	}
	if s.Offset > 0 && s.Every == 0 {
		return fail("offset only goes with every")
	}
	if s.Timezone != "" {
		if _, err := time.LoadLocation(s.Timezone); err != nil {
			return fail("unknown time zone %q", s.Timezone)
		}
		sp.TimeZoneName = s.Timezone
	}
	sp.Jitter = s.Jitter.D()
	var err error
	if sp.StartAt, err = parseTime("startAt", s.StartAt); err != nil {
		return fail("%v", err)
	}
	if sp.EndAt, err = parseTime("endAt", s.EndAt); err != nil {
		return fail("%v", err)
	}
	if !sp.StartAt.IsZero() && !sp.EndAt.IsZero() && !sp.EndAt.After(sp.StartAt) {
		return fail("endAt must be after startAt")
	}
	overlap, err := ParseOverlap(s.Overlap)
	if err != nil {
		return fail("%v", err)
	}
	kind, err := catalog.Lookup(s.Workflow)
	if err != nil {
		return fail("%v", err)
	}
	in, err := catalog.ReadInput(kind, &s.Input, baseDir)
	if err != nil {
		return fail("%v", err)
	}
	if s.TaskQueue != "" {
		if err := flowdata.ValidateTaskQueue("taskQueue", s.TaskQueue); err != nil {
			return fail("%v", err)
		}
		taskQueue = s.TaskQueue
	} else if len(in.Args) == 1 {
		taskQueue = workflows.RouteTaskQueue(in.Args[0], taskQueue)
	}
	summary, details := staticSummary(in.Args), staticDetails(in.Args)
	hash, err := hashSpec(s, in.Args, summary, details, taskQueue)
	if err != nil {
		return fail("%v", err)
	}
	fields, err := specFields(s, in.Args, summary, taskQueue)
	if err != nil {
		return fail("%v", err)
	}
	opts := client.ScheduleOptions{
		ID:   s.ID,
		Spec: sp,
		Action: &client.ScheduleWorkflowAction{
			ID:        kind.Name + "/" + s.ID,
			Workflow:  kind.WorkflowType,
			Args:      in.Args,
			TaskQueue: taskQueue,
			Memo:      map[string]any{SpecMemo: hash, FieldsMemo: fields},
			// The runs' one-line summary and inputs in the Web UI.
			StaticSummary: summary,
			StaticDetails: details,
		},
		Overlap:        overlap,
		CatchupWindow:  s.CatchupWindow.D(),
		PauseOnFailure: s.PauseOnFailure,
		Note:           s.Note,
		Paused:         s.Paused != nil && *s.Paused,
		Memo:           map[string]any{ManagedMemo: true},
	}
	return Built{Spec: s, Options: opts, Hash: hash, Kind: kind, Target: in.Target}, nil
}

func parseTime(key, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q: want RFC 3339, like 2026-12-01T00:00:00Z", key, v)
	}
	return t, nil
}

// hashSpec hashes everything that defines the schedule: the spec fields,
// the resolved input (so an edited job file counts as a change) and the
// runs' static summary and details (so schedules made before them get
// them), and the task queue the runs go to (also when it is the starter's
// --task-queue, which the spec does not hold).
func hashSpec(s Spec, args []any, summary, details, taskQueue string) (string, error) {
	s.Paused = nil // state, compared with the server's by Plan
	b, err := json.Marshal(struct {
		Spec    Spec
		Args    []any
		Summary string `json:",omitempty"`
		Details string `json:",omitempty"`
		Queue   string `json:",omitempty"`
	}{s, args, summary, details, taskQueue})
	if err != nil {
		return "", errors.New("cannot hash the schedule: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8]), nil
}

// staticSummary is the summary of a schedule's single input ("" for none).
func staticSummary(args []any) string {
	if len(args) != 1 {
		return ""
	}
	return workflows.StaticSummary(args[0])
}

// staticDetails is the details of a schedule's single input ("" for none).
func staticDetails(args []any) string {
	if len(args) != 1 {
		return ""
	}
	return workflows.StaticDetails(args[0])
}
