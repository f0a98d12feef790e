package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/vigilops/vigil/internal/outbound"
	"github.com/vigilops/vigil/internal/secretenv"
)

// DefaultSlackWebhookEnv names the worker environment variable holding the
// Slack incoming-webhook URL used when a flow names none; every worker's
// secret allow-list holds it.
const DefaultSlackWebhookEnv = secretenv.SlackWebhookEnv

// slackTimeout bounds one webhook post.
const slackTimeout = 10 * time.Second

// Slack attachment colours.
const (
	SlackGood    = "good"
	SlackWarning = "warning"
	SlackDanger  = "danger"
)

// Slack posts messages to an incoming webhook whose URL the worker reads
// from its environment: the URL is a secret and never enters history.
type Slack struct {
	// Client sends the requests; nil uses a 10s-timeout client refusing
	// link-local addresses (outbound.Client).
	Client *http.Client
	// Env reads the webhook variables through the worker's allow-list
	// (the default webhook variable is always allowed); nil is the default
	// allow-list over the process environment.
	Env *secretenv.Env
}

// SlackField is one short "title: value" pair of a message.
type SlackField struct {
	Title string `json:"title"`
	Value string `json:"value"`
	Short bool   `json:"short,omitempty"`
}

// SlackMessage is a message with one coloured attachment.
type SlackMessage struct {
	// WebhookEnv names the env var with the webhook URL; empty means
	// DefaultSlackWebhookEnv.
	WebhookEnv string `json:"webhookEnv,omitempty"`
	// Text is the fallback / notification text.
	Text string `json:"text"`
	// Color is good, warning, danger or a #hex colour.
	Color string `json:"color,omitempty"`
	// Title of the attachment.
	Title string `json:"title,omitempty"`
	// Fields of the attachment.
	Fields []SlackField `json:"fields,omitempty"`
	// Footer, e.g. a `starter status ID` hint.
	Footer string `json:"footer,omitempty"`
}

// Notify posts the message. A missing webhook variable or a payload Slack
// rejects (4xx) is a non-retryable error; 5xx and network errors retry.
func (a *Slack) Notify(ctx context.Context, m SlackMessage) (err error) {
	defer func() { countSlackPost(err) }()
	env := m.WebhookEnv
	if env == "" {
		env = DefaultSlackWebhookEnv
	}
	url, err := secretEnv(a.Env).Lookup(env)
	if err != nil {
		return err
	}
	if url == "" {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("slack: environment variable %s is not set on the worker", env), ErrTypeConfig, nil)
	}
	payload := map[string]any{
		"text": m.Text,
		"attachments": []map[string]any{{
			"color": m.Color, "title": m.Title, "fields": m.Fields, "footer": m.Footer,
			"fallback": m.Text, "ts": time.Now().Unix(),
		}},
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return BadInput("slack: %v", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return temporal.NewNonRetryableApplicationError("slack: bad webhook URL in "+env, ErrTypeConfig, nil)
	}
	req.Header.Set("Content-Type", "application/json")
	client := a.Client
	if client == nil {
		client = outbound.Client(false, slackTimeout)
	}
	resp, err := client.Do(req)
	if err != nil {
		return outbound.Classify("slack: ", fmt.Errorf("slack: %w", redactURL(err)))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	switch {
	case resp.StatusCode == http.StatusOK:
		return nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("slack: %s: %s", resp.Status, body), ErrTypeBadInput, nil)
	default:
		return fmt.Errorf("slack: %s: %s", resp.Status, body)
	}
}

// redactURL drops the webhook URL (a secret) from client errors.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s webhook: %w", ue.Op, ue.Err)
	}
	return err
}
