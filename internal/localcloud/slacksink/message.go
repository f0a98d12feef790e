package slacksink

import (
	"encoding/json"
	"time"
)

// Message is one webhook call the sink accepted.
type Message struct {
	// Path is the request path, e.g. /_slack/services/T000/B000/XXXX.
	Path string `json:"path"`
	// Received is when the sink got it.
	Received time.Time `json:"received"`
	// Payload is the JSON document as posted.
	Payload json.RawMessage `json:"payload"`
}

// Payload is the part of a Slack message payload vigil uses.
type Payload struct {
	Text        string            `json:"text,omitempty"`        // message text (mrkdwn)
	Channel     string            `json:"channel,omitempty"`     // channel override (legacy webhooks)
	Username    string            `json:"username,omitempty"`    // sender name override
	IconEmoji   string            `json:"icon_emoji,omitempty"`  // sender icon override
	Attachments []Attachment      `json:"attachments,omitempty"` // legacy attachments
	Blocks      []json.RawMessage `json:"blocks,omitempty"`      // Block Kit blocks, undecoded
}

// Attachment is a legacy message attachment (coloured side bar, title,
// text and fields).
type Attachment struct {
	Fallback  string  `json:"fallback,omitempty"`   // plain-text summary
	Color     string  `json:"color,omitempty"`      // "good", "warning", "danger" or #rrggbb
	Pretext   string  `json:"pretext,omitempty"`    // text above the attachment
	Title     string  `json:"title,omitempty"`      // bold title
	TitleLink string  `json:"title_link,omitempty"` // URL the title links to
	Text      string  `json:"text,omitempty"`       // body text
	Fields    []Field `json:"fields,omitempty"`     // table of title/value pairs
	Footer    string  `json:"footer,omitempty"`     // small text below
	Ts        any     `json:"ts,omitempty"`         // epoch time shown in the footer (number or string)
}

// Field is one title/value pair of an attachment.
type Field struct {
	Title string `json:"title"`           // field label
	Value string `json:"value"`           // field value
	Short bool   `json:"short,omitempty"` // may sit side by side with another short field
}

// Decode parses the message's payload.
func (m Message) Decode() (Payload, error) {
	var p Payload
	err := json.Unmarshal(m.Payload, &p)
	return p, err
}

// Field returns the value of the first attachment field with the given
// title, and whether there is one.
func (p Payload) Field(title string) (string, bool) {
	for _, a := range p.Attachments {
		for _, f := range a.Fields {
			if f.Title == title {
				return f.Value, true
			}
		}
	}
	return "", false
}

// hasContent reports whether Slack would accept the payload: it needs a
// text, attachments or blocks.
func (p Payload) hasContent() bool {
	return p.Text != "" || len(p.Attachments) > 0 || len(p.Blocks) > 0
}
