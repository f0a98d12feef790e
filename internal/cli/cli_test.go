package cli

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"

	"github.com/vigilops/vigil/workflows"
)

func TestFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0s"},
		{0, "0s"},
		{850 * time.Millisecond, "850ms"},
		{42*time.Second + 900*time.Millisecond, "42s"},
		{3*time.Minute + 5*time.Second, "3m05s"},
		{2*time.Hour + 3*time.Minute + 59*time.Second, "2h03m"},
		{76 * time.Hour, "3d04h"},
	} {
		if got := FormatDuration(tc.d); got != tc.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{-5, "0 B"},
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1536, "1.5 KiB"},
		{64 << 20, "64.0 MiB"},
		{5 << 30, "5.0 GiB"},
		{3 << 40, "3.0 TiB"},
	} {
		if got := FormatBytes(tc.n); got != tc.want {
			t.Errorf("FormatBytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestPercentAndBar(t *testing.T) {
	if _, ok := Percent(5, 0); ok {
		t.Error("Percent with zero total should be unknown")
	}
	if p, _ := Percent(150, 100); p != 100 {
		t.Errorf("Percent clamps to 100, got %v", p)
	}
	for _, tc := range []struct {
		done, total int64
		want        string
	}{
		{0, 100, "[..........]   0.0%"},
		{25, 100, "[##........]  25.0%"},
		{512, 1024, "[#####.....]  50.0%"},
		{100, 100, "[##########] 100.0%"},
		{200, 100, "[##########] 100.0%"},
		{5, 0, ""},
	} {
		if got := ProgressBar(tc.done, tc.total, 10); got != tc.want {
			t.Errorf("ProgressBar(%d, %d) = %q, want %q", tc.done, tc.total, got, tc.want)
		}
	}
	if got := BytesProgress(512, 1024, 10); got != "[#####.....]  50.0% 512 B/1.0 KiB" {
		t.Errorf("BytesProgress = %q", got)
	}
	if got := BytesProgress(2048, 0, 10); got != "2.0 KiB" {
		t.Errorf("BytesProgress without total = %q", got)
	}
}

func TestProgressLine(t *testing.T) {
	st := workflows.Status{Phase: workflows.PhaseDownloading, BytesDone: 256, BytesTotal: 1024, Attempt: 2, Message: "part 3\nof 4", LastError: "throttled"}
	got := ProgressLine(st, 3*time.Minute+12*time.Second, 10)
	want := "downloading 3m12s  [##........]  25.0% 256 B/1.0 KiB  attempt 2  part 3 of 4  last error: throttled"
	if got != want {
		t.Errorf("ProgressLine =\n %q, want\n %q", got, want)
	}
	if got := ProgressLine(workflows.Status{}, -1, 10); got != "running" {
		t.Errorf("empty status without elapsed = %q, want %q", got, "running")
	}
}

func TestPhaseElapsed(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	fallback := now.Add(-time.Hour)
	if got := PhaseElapsed(workflows.Status{Since: now.Add(-time.Minute), Started: now.Add(-2 * time.Minute)}, fallback, now); got != time.Minute {
		t.Errorf("from Since: %v", got)
	}
	if got := PhaseElapsed(workflows.Status{Started: now.Add(-2 * time.Minute)}, fallback, now); got != 2*time.Minute {
		t.Errorf("from Started: %v", got)
	}
	if got := PhaseElapsed(workflows.Status{}, fallback, now); got != time.Hour {
		t.Errorf("from fallback: %v", got)
	}
}

func TestLiveLineWithoutTerminalPrintsChangesOnly(t *testing.T) {
	var buf bytes.Buffer
	l := NewLiveLine(&buf, false)
	clock := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return clock }
	l.Update("waiting", "waiting 1s")
	clock = clock.Add(time.Second)
	l.Update("waiting", "waiting 2s")
	clock = clock.Add(RepeatEvery)
	l.Update("waiting", "waiting 1m2s") // unchanged, but a minute later
	l.Update("downloading", "downloading 0s")
	l.Finish()
	if got, want := buf.String(), "waiting 1s\nwaiting 1m2s\ndownloading 0s\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLiveLineOnTerminalRedraws(t *testing.T) {
	var buf bytes.Buffer
	l := NewLiveLine(&buf, true)
	l.Update("a", "waiting 1s")
	l.Update("a", "waiting 2s")
	l.Finish()
	if got, want := buf.String(), "\rwaiting 1s\x1b[K\rwaiting 2s\x1b[K\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if IsTerminal(&buf) {
		t.Error("a buffer is not a terminal")
	}
}

func TestWriteTableAndFields(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteTable(&buf, []string{"ID", "STATUS"}, [][]string{{"glacier/v/a", "running"}, {"x", "failed\nbadly"}}); err != nil {
		t.Fatal(err)
	}
	want := "ID           STATUS\nglacier/v/a  running\nx            failed badly\n"
	if buf.String() != want {
		t.Errorf("table =\n%q, want\n%q", buf.String(), want)
	}

	buf.Reset()
	fields := append([]Field{{"Phase", "waiting"}, {"Empty", ""}}, MapFields("Details", map[string]string{"b": "2", "a": "1"})...)
	if err := WriteFields(&buf, fields); err != nil {
		t.Fatal(err)
	}
	want = "Phase:    waiting\nDetails:  a=1\n          b=2\n"
	if buf.String() != want {
		t.Errorf("fields =\n%q, want\n%q", buf.String(), want)
	}
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, map[string]any{"url": "s3://b/k?a=1&b=<2>"}); err != nil {
		t.Fatal(err)
	}
	if want := "{\n  \"url\": \"s3://b/k?a=1&b=<2>\"\n}\n"; buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

func TestStatusFields(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	st := workflows.Status{
		Phase: workflows.PhaseWaiting, Since: now.Add(-2*time.Minute - 5*time.Second), Started: now.Add(-5 * time.Minute),
		BytesDone: 512, BytesTotal: 1024, Attempt: 3, LastPoll: "InProgress", LastError: "throttled",
		Message: "waiting for SNS", Details: map[string]string{"jobId": "j-1"},
	}
	var buf bytes.Buffer
	if err := WriteFields(&buf, StatusFields(st, now)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"Phase:       waiting for 2m05s (since ",
		"Progress:    [##########..........]  50.0% 512 B/1.0 KiB",
		"Attempt:     3",
		"Last poll:   InProgress",
		"Last error:  throttled",
		"Message:     waiting for SNS",
		"Details:     jobId=j-1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	buf.Reset()
	if err := WriteFields(&buf, StatusFields(workflows.Status{Phase: workflows.PhaseDone, Since: now}, time.Time{})); err != nil {
		t.Fatal(err)
	}
	if want := "Phase:  done (since " + FormatTime(now) + ")\n"; buf.String() != want {
		t.Errorf("closed run: got %q, want %q", buf.String(), want)
	}
}

func TestParseStatusAndNames(t *testing.T) {
	for _, name := range StatusNames() {
		s, err := ParseStatus(strings.ToUpper(name))
		if err != nil {
			t.Fatalf("ParseStatus(%q): %v", name, err)
		}
		if StatusName(s) != name {
			t.Errorf("round trip %q -> %v -> %q", name, s, StatusName(s))
		}
	}
	if s, _ := ParseStatus("timed-out"); s != enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT {
		t.Errorf("timed-out parsed as %v", s)
	}
	_, err := ParseStatus("sleeping")
	if ExitCode(err) != ExitUsage || !strings.Contains(err.Error(), "running, completed") {
		t.Errorf("bad status error = %v (exit %d)", err, ExitCode(err))
	}
}

func TestParseFormat(t *testing.T) {
	if f, err := ParseFormat("JSON"); err != nil || f != FormatJSON {
		t.Errorf("ParseFormat(JSON) = %q, %v", f, err)
	}
	_, err := ParseFormat("yaml")
	if ExitCode(err) != ExitUsage || !strings.HasPrefix(err.Error(), "--output must be text or json") {
		t.Errorf("ParseFormat(yaml) error = %v", err)
	}
}

func TestExitCode(t *testing.T) {
	if ExitCode(nil) != ExitOK {
		t.Error("nil")
	}
	if ExitCode(errors.New("x")) != ExitFailure {
		t.Error("plain error")
	}
	if ExitCode(fmt.Errorf("wrapped: %w", Usagef("bad"))) != ExitUsage {
		t.Error("wrapped usage error")
	}
	ee := &ExitError{Code: ExitInterrupted, Silent: true}
	if ExitCode(ee) != ExitInterrupted || !IsSilent(ee) || IsSilent(errors.New("x")) {
		t.Error("exit error")
	}
}

func TestFailureMessage(t *testing.T) {
	f := &failurepb.Failure{
		Message: "activity error",
		FailureInfo: &failurepb.Failure_ActivityFailureInfo{ActivityFailureInfo: &failurepb.ActivityFailureInfo{
			ActivityType: &commonpb.ActivityType{Name: "Download"},
		}},
		Cause: &failurepb.Failure{
			Message: "bucket not found",
			FailureInfo: &failurepb.Failure_ApplicationFailureInfo{ApplicationFailureInfo: &failurepb.ApplicationFailureInfo{
				Type: "NotFound", NonRetryable: true,
			}},
		},
	}
	if got, want := FailureMessage(f), "activity Download failed: bucket not found"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := strings.Join(FailureChain(f), " | "), "activity Download failed | [NotFound] bucket not found"; got != want {
		t.Errorf("chain %q, want %q", got, want)
	}
	// A Go error chain the worker flattened: each cause repeats the tail
	// of the one before; only the outermost is shown, without types.
	chain := &failurepb.Failure{Message: "job nightly failed: POST http://h/x: dial tcp 127.0.0.1:9: connect: connection refused",
		FailureInfo: &failurepb.Failure_ApplicationFailureInfo{ApplicationFailureInfo: &failurepb.ApplicationFailureInfo{Type: "JobFailed"}},
		Cause: &failurepb.Failure{Message: "dial tcp 127.0.0.1:9: connect: connection refused",
			FailureInfo: &failurepb.Failure_ApplicationFailureInfo{ApplicationFailureInfo: &failurepb.ApplicationFailureInfo{Type: "OpError"}},
			Cause: &failurepb.Failure{Message: "connection refused",
				FailureInfo: &failurepb.Failure_ApplicationFailureInfo{ApplicationFailureInfo: &failurepb.ApplicationFailureInfo{Type: "Errno"}}}}}
	if got, want := FailureMessage(chain), chain.Message; got != want {
		t.Errorf("flattened chain: got %q, want %q", got, want)
	}
	if got := FailureChain(chain); len(got) != 3 || got[2] != "[Errno] connection refused" {
		t.Errorf("flattened chain details = %q", got)
	}
	timeout := &failurepb.Failure{Message: "activity timeout", FailureInfo: &failurepb.Failure_TimeoutFailureInfo{
		TimeoutFailureInfo: &failurepb.TimeoutFailureInfo{TimeoutType: enumspb.TIMEOUT_TYPE_START_TO_CLOSE},
	}}
	if got, want := FailureMessage(timeout), "timed out (start to close)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if FailureMessage(nil) != "unknown failure" {
		t.Error("nil failure")
	}
}

func TestTruncate(t *testing.T) {
	if got := Truncate("abcdef", 4); got != "abc…" {
		t.Errorf("got %q", got)
	}
	if got := Truncate("abc", 4); got != "abc" {
		t.Errorf("got %q", got)
	}
}

func TestFormatTimeCarriesZone(t *testing.T) {
	at := time.Date(2026, 12, 7, 16, 0, 0, 0, time.UTC)
	got := FormatTime(at)
	if want := at.Local().Format("MST"); !strings.HasSuffix(got, " "+want) || want == "" {
		t.Errorf("FormatTime = %q, want it to end with the zone %q", got, want)
	}
}

func TestMessageAndExitCodeByType(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	op := &smithy.OperationError{ServiceID: "S3", OperationName: "HeadObject", Err: fmt.Errorf("exceeded maximum number of attempts, 3, https response error: %w", refused)}
	err := fmt.Errorf("checking s3://b/k: %w", op)
	if got, want := Message(err), "checking s3://b/k: S3 HeadObject: cannot connect to 127.0.0.1:9 (connect: connection refused)"; got != want {
		t.Errorf("Message = %q, want %q", got, want)
	}
	if got := Message(fmt.Errorf("S3 HeadObject s3://b/k: %w", op)); strings.Count(got, "HeadObject") != 1 {
		t.Errorf("operation named twice: %q", got)
	}
	if ExitCode(err) != ExitUnreachable || len(Details(err)) < 3 {
		t.Errorf("exit %d, details %q", ExitCode(err), Details(err))
	}
	notFound := fmt.Errorf("x: %w", &smithy.OperationError{ServiceID: "S3", OperationName: "HeadObject", Err: &smithy.GenericAPIError{Code: "NoSuchBucket"}})
	if ExitCode(notFound) != ExitNotFound {
		t.Errorf("NoSuchBucket: exit %d", ExitCode(notFound))
	}
	if ExitCode(errors.New("other")) != ExitFailure || ExitCode(Usagef("bad")) != ExitUsage {
		t.Error("plain and usage errors")
	}
	if why, ok := TLSFailure(errors.New(`connection error: desc = "error reading server preface: remote error: tls: certificate required"`)); !ok ||
		!strings.HasPrefix(why, "the server refused the client certificate") {
		t.Errorf("TLSFailure = %q, %v", why, ok)
	}
}
