package devserver

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
)

// TestRestartKeepsState starts the server with a file database and the UI,
// creates a schedule, stops, starts again on the same directory and finds
// the schedule and the search attributes again.
func TestRestartKeepsState(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	opts := Options{
		DataDir:          dir,
		SearchAttributes: map[string]enumspb.IndexedValueType{"VigilFlow": enumspb.INDEXED_VALUE_TYPE_KEYWORD},
		Logger:           slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	s, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(s.UIURL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(strings.ToLower(string(body)), "<html") {
		t.Fatalf("UI answered %s with %.80q", resp.Status, body)
	}

	c, err := client.DialContext(ctx, client.Options{HostPort: s.FrontendAddr(), Namespace: s.Namespace()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:     "kept",
		Spec:   client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: time.Hour}}},
		Action: &client.ScheduleWorkflowAction{Workflow: "Noop", TaskQueue: "nowhere"},
		Paused: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}

	s2, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	defer s2.Stop()
	c2, err := client.DialContext(ctx, client.Options{HostPort: s2.FrontendAddr(), Namespace: s2.Namespace()})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	desc, err := c2.ScheduleClient().GetHandle(ctx, "kept").Describe(ctx)
	if err != nil {
		t.Fatalf("schedule lost across restart: %v", err)
	}
	if !desc.Schedule.State.Paused {
		t.Errorf("schedule state not kept: %+v", desc.Schedule.State)
	}
	sa, err := c2.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: s2.Namespace()})
	if err != nil {
		t.Fatal(err)
	}
	if sa.CustomAttributes["VigilFlow"] != enumspb.INDEXED_VALUE_TYPE_KEYWORD {
		t.Errorf("search attribute missing after restart: %v", sa.CustomAttributes)
	}
}

// TestBusyPortIsAClearError checks the UI port guard: a taken port must be
// reported, not end the process.
func TestBusyPortIsAClearError(t *testing.T) {
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = Start(context.Background(), Options{UIPort: port, Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "not free") {
		t.Fatalf("want a 'not free' error, got %v", err)
	}
}
