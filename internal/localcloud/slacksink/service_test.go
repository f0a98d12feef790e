package slacksink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

const webhookPath = "/_slack/services/T000/B000/XXXX"

func post(t *testing.T, srv *httptest.Server, path, contentType, body string) (int, string) {
	t.Helper()
	res, err := http.Post(srv.URL+path, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestWebhookAcceptsAndRejectsLikeSlack(t *testing.T) {
	sink := New(Options{})
	srv := httptest.NewServer(sink)
	t.Cleanup(srv.Close)
	report := `{"text":"Datastore export finished","attachments":[{"color":"good","title":"dsexport/proj/2026",` +
		`"text":"ok","fields":[{"title":"Entities","value":"1234","short":true}]}]}`
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		reply       string
		kept        bool
	}{
		{"text", "application/json", `{"text":"hello"}`, 200, "ok", true},
		{"attachments", "application/json", report, 200, "ok", true},
		{"blocks", "application/json", `{"blocks":[{"type":"section","text":{"type":"mrkdwn","text":"*hi*"}}]}`, 200, "ok", true},
		{"form payload", "application/x-www-form-urlencoded", "payload=" + url.QueryEscape(`{"text":"legacy"}`), 200, "ok", true},
		{"invalid JSON", "application/json", `{"text":`, 400, "invalid_payload", false},
		{"not an object", "application/json", `["text"]`, 400, "invalid_payload", false},
		{"no text", "application/json", `{"username":"vigil"}`, 400, "no_text", false},
		{"empty text", "application/json", `{"text":"","attachments":[]}`, 400, "no_text", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(sink.Messages())
			status, reply := post(t, srv, webhookPath, tc.contentType, tc.body)
			if status != tc.status || reply != tc.reply {
				t.Errorf("got %d %q, want %d %q", status, reply, tc.status, tc.reply)
			}
			if kept := len(sink.Messages()) > before; kept != tc.kept {
				t.Errorf("kept = %v, want %v", kept, tc.kept)
			}
		})
	}

	msgs := sink.Messages()
	if len(msgs) != 4 {
		t.Fatalf("kept %d messages, want 4", len(msgs))
	}
	p, err := msgs[1].Decode()
	if err != nil {
		t.Fatal(err)
	}
	if p.Text != "Datastore export finished" || len(p.Attachments) != 1 || p.Attachments[0].Color != "good" {
		t.Errorf("decoded payload = %+v", p)
	}
	if v, ok := p.Field("Entities"); !ok || v != "1234" {
		t.Errorf("Field(Entities) = %q, %v", v, ok)
	}
	if string(msgs[1].Payload) != report {
		t.Errorf("raw payload = %s, want it as posted", msgs[1].Payload)
	}
	if p, _ := msgs[3].Decode(); p.Text != "legacy" {
		t.Errorf("form payload decoded to %+v", p)
	}
}

func TestMessagesEndpoint(t *testing.T) {
	at := time.Date(2026, 10, 17, 12, 0, 0, 0, time.UTC)
	sink := New(Options{Now: func() time.Time { return at }})
	srv := httptest.NewServer(sink)
	t.Cleanup(srv.Close)
	post(t, srv, "/_slack/a", "application/json", `{"text":"one"}`)
	post(t, srv, "/_slack/b/c", "application/json", `{"text":"two"}`)

	res, err := http.Get(srv.URL + MessagesPath)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var got []struct {
		Path     string          `json:"path"`
		Received time.Time       `json:"received"`
		Payload  json.RawMessage `json:"payload"`
	}
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Path != "/_slack/a" || got[1].Path != "/_slack/b/c" ||
		!got[0].Received.Equal(at) || string(got[1].Payload) != `{"text":"two"}` {
		t.Fatalf("GET %s = %+v", MessagesPath, got)
	}

	req, _ := http.NewRequest(http.MethodDelete, srv.URL+MessagesPath, nil)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE = %v, %v", res, err)
	}
	if n := len(sink.Messages()); n != 0 {
		t.Errorf("%d messages after DELETE", n)
	}
	res, err = http.Get(srv.URL + MessagesPath)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if strings.TrimSpace(string(b)) != "[]" {
		t.Errorf("empty list = %s, want []", b)
	}
	if res, _ := http.Get(srv.URL + webhookPath); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET on a webhook = %d", res.StatusCode)
	}
}

func TestWait(t *testing.T) {
	sink := New(Options{})
	srv := httptest.NewServer(sink)
	t.Cleanup(srv.Close)
	isDanger := func(m Message) bool {
		p, err := m.Decode()
		return err == nil && len(p.Attachments) > 0 && p.Attachments[0].Color == "danger"
	}

	type result struct {
		m   Message
		err error
	}
	done := make(chan result, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		m, err := sink.Wait(ctx, isDanger)
		done <- result{m, err}
	}()
	post(t, srv, "/_slack/x", "application/json", `{"text":"fine","attachments":[{"color":"good"}]}`)
	post(t, srv, "/_slack/x", "application/json", `{"text":"broken","attachments":[{"color":"danger"}]}`)
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if p, _ := r.m.Decode(); p.Text != "broken" {
		t.Errorf("Wait returned %s, want the danger message", r.m.Payload)
	}

	// An already received message satisfies Wait at once; nil matches all.
	if m, err := sink.Wait(context.Background(), nil); err != nil || m.Path != "/_slack/x" {
		t.Errorf("Wait(nil) = %+v, %v", m, err)
	}

	// No match: Wait ends with the context.
	short, cancelShort := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelShort()
	if _, err := sink.Wait(short, func(Message) bool { return false }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait without match = %v, want DeadlineExceeded", err)
	}

	// Messages after a Reset are still seen by a waiter.
	sink.Reset()
	go func() {
		m, err := sink.Wait(ctx, func(m Message) bool { return m.Path == "/_slack/after-reset" })
		done <- result{m, err}
	}()
	post(t, srv, "/_slack/after-reset", "application/json", `{"text":"again"}`)
	if r := <-done; r.err != nil || r.m.Path != "/_slack/after-reset" {
		t.Errorf("Wait after reset = %+v", r)
	}
}

func TestLogsEachMessage(t *testing.T) {
	var buf bytes.Buffer
	sink := New(Options{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	req := httptest.NewRequest(http.MethodPost, webhookPath,
		strings.NewReader(`{"text":"export failed","attachments":[{"color":"danger","title":"dsexport/p/t"}]}`))
	if !sink.Match(req) || sink.Name() != "slack" {
		t.Fatal("Match or Name wrong")
	}
	w := httptest.NewRecorder()
	sink.ServeHTTP(w, req)
	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("log %q: %v", buf.String(), err)
	}
	att, _ := rec["attachment0"].(map[string]any)
	if rec["msg"] != "slack message" || rec["text"] != "export failed" || rec["path"] != webhookPath || att["color"] != "danger" {
		t.Errorf("log record = %v", rec)
	}
	if sink.Match(httptest.NewRequest(http.MethodPost, "/_slackish", nil)) {
		t.Error("Match accepted a path outside /_slack/")
	}
}

func TestKeepsABoundedNumber(t *testing.T) {
	sink := New(Options{})
	for i := range maxKept + 5 {
		req := httptest.NewRequest(http.MethodPost, "/_slack/n", strings.NewReader(`{"text":"m`+string(rune('a'+i%26))+`"}`))
		sink.ServeHTTP(httptest.NewRecorder(), req)
	}
	if n := len(sink.Messages()); n != maxKept {
		t.Errorf("kept %d, want %d", n, maxKept)
	}
	// A waiter that has looked at the full buffer still sees a message
	// that arrives afterwards (and makes the oldest one drop).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	scanned := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		seen := 0
		_, err := sink.Wait(ctx, func(m Message) bool {
			if seen++; seen == maxKept {
				close(scanned)
			}
			return m.Path == "/_slack/last"
		})
		done <- err
	}()
	select {
	case <-scanned:
	case <-ctx.Done():
		t.Fatal("waiter never scanned the kept messages")
	}
	sink.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/_slack/last", strings.NewReader(`{"text":"z"}`)))
	if err := <-done; err != nil {
		t.Errorf("Wait for the newest message: %v", err)
	}
}
