package flowdata

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/vigilops/vigil/internal/location"
)

// Datastore operation states, as google.datastore.admin.v1 names them.
const (
	DatastoreInitializing = "INITIALIZING"
	DatastoreProcessing   = "PROCESSING"
	DatastoreCancelling   = "CANCELLING"
	DatastoreFinalizing   = "FINALIZING"
	DatastoreSuccessful   = "SUCCESSFUL"
	DatastoreFailed       = "FAILED"
	DatastoreCancelled    = "CANCELLED"
)

// Outcomes of a Datastore export or import run (DatastoreResult.Outcome).
const (
	OutcomeSucceeded = "succeeded"
	OutcomeFailed    = "failed"
	OutcomeDeadline  = "deadline"
	OutcomeCancelled = "cancelled"
)

// DatastoreRunLabel is the label key every operation vigil starts carries,
// valued with the workflow run ID, so a retried start finds the operation
// its earlier attempt started.
const DatastoreRunLabel = "vigil-run"

// DatastoreOp is a snapshot of one Datastore Admin long-running operation.
type DatastoreOp struct {
	// Name is projects/P/operations/ID.
	Name string `json:"name"`
	// Type is EXPORT_ENTITIES or IMPORT_ENTITIES.
	Type string `json:"type,omitempty"`
	// State is one of the Datastore* state constants.
	State string `json:"state"`
	// Done is true once the operation has a result.
	Done bool `json:"done"`
	// Error and ErrorCode describe a failed or cancelled operation.
	Error     string `json:"error,omitempty"`
	ErrorCode string `json:"errorCode,omitempty"`
	// Start and End are the operation's common start and end times.
	Start time.Time `json:"start,omitzero"`
	End   time.Time `json:"end,omitzero"`
	// Entities and bytes completed and estimated (completed may exceed
	// the estimate).
	EntitiesDone      int64 `json:"entitiesDone"`
	EntitiesEstimated int64 `json:"entitiesEstimated"`
	BytesDone         int64 `json:"bytesDone"`
	BytesEstimated    int64 `json:"bytesEstimated"`
	// OutputURLPrefix (export request), OutputURL (export result: the
	// overall_export_metadata file) and InputURL (import).
	OutputURLPrefix string            `json:"outputUrlPrefix,omitempty"`
	OutputURL       string            `json:"outputUrl,omitempty"`
	InputURL        string            `json:"inputUrl,omitempty"`
	Labels          map[string]string `json:"labels,omitempty"`
	// Adopted tells that a retried start found this run's operation
	// rather than starting one.
	Adopted bool `json:"adopted,omitempty"`
}

// DatastorePollPolicy is how often a run asks for its operation's state.
type DatastorePollPolicy struct {
	// Initial interval, also used during the first FastFor and once the
	// operation is FINALIZING; 0 means 5s.
	Initial Duration `json:"initial,omitempty"`
	// Max interval; 0 means 60s. Set Initial = Max for fixed polling.
	Max Duration `json:"max,omitempty"`
	// FastFor is how long after the start the run polls every Initial;
	// 0 means 1m.
	FastFor Duration `json:"fastFor,omitempty"`
}

// DatastoreReport configures the Slack report of a run.
type DatastoreReport struct {
	// Disabled turns the Slack report off.
	Disabled bool `json:"disabled,omitempty"`
	// TimeZone of the times in the report (IANA name); empty means
	// Asia/Tokyo, as the replaced report used JST.
	TimeZone string `json:"timeZone,omitempty"`
	// WebhookEnv names the worker env var holding the webhook URL; empty
	// means VIGIL_SLACK_WEBHOOK_URL.
	WebhookEnv string `json:"webhookEnv,omitempty"`
}

// DatastoreExportInput is the input of the datastore-export workflow.
type DatastoreExportInput struct {
	// Project is the GCP project id.
	Project string `json:"project"`
	// OutputURLPrefix is gs://bucket[/path]; empty means a dated folder
	// gs://Bucket/datastore/<start time, UTC> under Bucket.
	OutputURLPrefix string `json:"outputUrlPrefix,omitempty"`
	// Bucket is where the dated default folder goes.
	Bucket string `json:"bucket,omitempty"`
	// Kinds and Namespaces filter the export; empty means all.
	Kinds      []string `json:"kinds,omitempty"`
	Namespaces []string `json:"namespaces,omitempty"`
	// Labels are put on the operation (with vigil-run added).
	Labels map[string]string   `json:"labels,omitempty"`
	Poll   DatastorePollPolicy `json:"poll,omitzero"`
	// Deadline after the start; 0 means 1h as in the replaced script.
	Deadline Duration        `json:"deadline,omitempty"`
	Report   DatastoreReport `json:"report,omitzero"`
	// Resume is set by a run that continues as new in its wait.
	Resume *DatastoreResume `json:"resume,omitempty"`
}

// DatastoreImportInput is the input of the datastore-import workflow.
type DatastoreImportInput struct {
	Project string `json:"project"`
	// InputURL is an export's gs://.../X.overall_export_metadata.
	InputURL   string              `json:"inputUrl"`
	Kinds      []string            `json:"kinds,omitempty"`
	Namespaces []string            `json:"namespaces,omitempty"`
	Labels     map[string]string   `json:"labels,omitempty"`
	Poll       DatastorePollPolicy `json:"poll,omitzero"`
	// Deadline after the start; 0 means 1h.
	Deadline Duration        `json:"deadline,omitempty"`
	Report   DatastoreReport `json:"report,omitzero"`
	// Resume is set by a run that continues as new in its wait.
	Resume *DatastoreResume `json:"resume,omitempty"`
}

// DatastoreResult is the result of an export or import run (also the
// details of its error when it fails or passes its deadline).
type DatastoreResult struct {
	// Outcome is one of the Outcome* constants.
	Outcome string `json:"outcome"`
	// Operation is the last known snapshot of the operation.
	Operation DatastoreOp `json:"operation"`
	// Elapsed is the run's wait, start to outcome.
	Elapsed Duration `json:"elapsed"`
	// Polls counts GetOperation calls.
	Polls int `json:"polls"`
	// Reported tells that the Slack report was posted.
	Reported bool `json:"reported"`
}

var (
	projectRE = regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
	kindRE    = regexp.MustCompile(`^[^\s,]+$`)
	labelRE   = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	valueRE   = regexp.MustCompile(`^[a-z0-9_-]{0,63}$`)
)

// CheckProject applies GCP's project id rules: 6 to 30 lowercase letters,
// digits or hyphens, starting with a letter, not ending with a hyphen.
func CheckProject(p string) error {
	if !projectRE.MatchString(p) {
		return fmt.Errorf("project %q: want 6-30 lowercase letters, digits or hyphens, starting with a letter", p)
	}
	return nil
}

// CheckGS checks a gs://bucket[/path] URL.
func CheckGS(what, raw string) error {
	if err := location.CheckURL(raw); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "gs" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%s %q: want gs://BUCKET[/PATH]", what, location.Redact(raw))
	}
	return nil
}

// checkFilter checks kinds, namespaces and labels.
func checkFilter(kinds, namespaces []string, labels map[string]string) error {
	for _, k := range kinds {
		if !kindRE.MatchString(k) || strings.HasPrefix(k, "__") {
			return fmt.Errorf("kind %q: want a kind name without spaces or commas, not a __reserved__ one", k)
		}
	}
	for _, n := range namespaces {
		if strings.ContainsAny(n, " ,") {
			return fmt.Errorf("namespace %q: want a namespace id without spaces or commas", n)
		}
	}
	// Sorted, so that the error names the same label every time (workflow
	// code calls this, and replays must see the same error).
	//workflowcheck:ignore the keys are sorted, so the order is fixed
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		if v := labels[k]; !labelRE.MatchString(k) || !valueRE.MatchString(v) {
			return fmt.Errorf("label %s=%s: keys and values are lowercase letters, digits, '_' and '-' (at most 63)", k, v)
		}
	}
	return nil
}

// checkCommon checks what exports and imports share (not the time zone,
// which needs the zone database: see checkZone).
func checkCommon(project string, deadline Duration, p DatastorePollPolicy) error {
	if err := CheckProject(project); err != nil {
		return err
	}
	if deadline < 0 {
		return fmt.Errorf("deadline %s: want > 0", deadline)
	}
	if p.Initial < 0 || p.Max < 0 || (p.Max > 0 && p.Initial > p.Max) {
		return fmt.Errorf("poll policy %s..%s: want 0 <= initial <= max", p.Initial, p.Max)
	}
	return nil
}

// andZone is err, or when nil the check of the report's time zone.
func andZone(err error, r DatastoreReport) error {
	if err != nil {
		return err
	}
	if r.TimeZone != "" {
		if _, err := time.LoadLocation(r.TimeZone); err != nil {
			return fmt.Errorf("time zone %q: %v", r.TimeZone, err)
		}
	}
	return nil
}

// andBounds is err, or when nil the check of the wait's bounds (floors,
// maximum deadline) and that no resume state is set. Only Validate checks
// them: workflow code (ValidateShape) must accept the inputs of runs
// started before the bounds existed.
func andBounds(err error, deadline Duration, p DatastorePollPolicy, r *DatastoreResume) error {
	switch {
	case err != nil:
		return err
	case r != nil:
		return errResumeSet
	}
	if err := CheckDeadline(deadline); err != nil {
		return err
	}
	return p.CheckBounds()
}

// Validate checks an export input before anything is contacted.
func (in DatastoreExportInput) Validate() error {
	return andZone(andBounds(in.ValidateShape(), in.Deadline, in.Poll, in.Resume), in.Report)
}

// ValidateShape is Validate without the time-zone lookup (workflow code
// must not read the zone database; the report activity falls back to UTC).
func (in DatastoreExportInput) ValidateShape() error {
	if err := checkCommon(in.Project, in.Deadline, in.Poll); err != nil {
		return err
	}
	switch {
	case in.OutputURLPrefix != "":
		if err := CheckGS("output", in.OutputURLPrefix); err != nil {
			return err
		}
	case in.Bucket == "":
		return fmt.Errorf("output: give an output URL prefix gs://BUCKET/PATH or a bucket for the dated default")
	case strings.ContainsAny(in.Bucket, "/ :"):
		return fmt.Errorf("bucket %q: want a bucket name", in.Bucket)
	}
	return checkFilter(in.Kinds, in.Namespaces, in.Labels)
}

// Validate checks an import input before anything is contacted.
func (in DatastoreImportInput) Validate() error {
	return andZone(andBounds(in.ValidateShape(), in.Deadline, in.Poll, in.Resume), in.Report)
}

// ValidateShape is Validate without the time-zone lookup.
func (in DatastoreImportInput) ValidateShape() error {
	if err := checkCommon(in.Project, in.Deadline, in.Poll); err != nil {
		return err
	}
	if err := CheckGS("from", in.InputURL); err != nil {
		return err
	}
	if !strings.HasSuffix(in.InputURL, ".overall_export_metadata") {
		return fmt.Errorf("from %q: want an export's .overall_export_metadata file", in.InputURL)
	}
	return checkFilter(in.Kinds, in.Namespaces, in.Labels)
}
