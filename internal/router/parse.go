package router

import (
	"encoding/json"
	"fmt"
	"time"
)

// Parse parses an SQS message body into a Notification. The body is either
// an SNS envelope (Type "Notification"; the payload is the Message string)
// or the payload itself. The payload must be a Glacier job notification, an
// S3 event (one or more records) or an s3:TestEvent.
//
// Errors wrap ErrMalformed (not JSON, wrong field types, a required field
// missing) or ErrUnrecognized (well-formed JSON of another shape). Parse
// never panics and has no side effects.
func Parse(body string) (Notification, error) {
	raw := []byte(body)
	top, err := decodeObject(raw)
	if err != nil {
		return Notification{}, fmt.Errorf("%w: body: %v", ErrMalformed, err)
	}
	if _, ok := top["Type"]; !ok {
		n, err := parsePayload(raw, top)
		if err != nil {
			return Notification{}, err
		}
		n.Source = SourceRaw
		return n, nil
	}

	var env struct {
		Type     string  `json:"Type"`
		Message  *string `json:"Message"`
		TopicArn string  `json:"TopicArn"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return Notification{}, fmt.Errorf("%w: SNS envelope: %v", ErrMalformed, err)
	}
	if env.Type != "Notification" {
		return Notification{}, fmt.Errorf("%w: SNS message of type %q", ErrUnrecognized, env.Type)
	}
	if env.Message == nil {
		return Notification{}, fmt.Errorf("%w: SNS notification without Message", ErrMalformed)
	}
	inner := []byte(*env.Message)
	obj, err := decodeObject(inner)
	if err != nil {
		return Notification{}, fmt.Errorf("%w: SNS Message: %v", ErrMalformed, err)
	}
	n, err := parsePayload(inner, obj)
	if err != nil {
		return Notification{}, err
	}
	n.Source = SourceSNS
	n.TopicARN = env.TopicArn
	return n, nil
}

// parsePayload recognises a payload by its top-level keys (matched exactly,
// unlike encoding/json's field matching) and decodes it.
func parsePayload(raw []byte, obj map[string]json.RawMessage) (Notification, error) {
	switch {
	case has(obj, "Records"):
		recs, err := parseS3Records(obj["Records"])
		if err != nil {
			return Notification{}, err
		}
		return Notification{Kind: KindS3Event, S3: recs}, nil
	case has(obj, "Event"):
		ev, err := parseS3TestEvent(raw)
		if err != nil {
			return Notification{}, err
		}
		return Notification{Kind: KindS3TestEvent, S3Test: ev}, nil
	case has(obj, "JobId") && has(obj, "Action"):
		job, err := parseGlacierJob(raw)
		if err != nil {
			return Notification{}, err
		}
		return Notification{Kind: KindGlacierJob, Glacier: job}, nil
	}
	return Notification{}, fmt.Errorf("%w: JSON object with neither Records, Event nor Action/JobId", ErrUnrecognized)
}

// decodeObject decodes a JSON object, keeping its values undecoded.
func decodeObject(raw []byte) (map[string]json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	return obj, nil
}

// has reports whether obj has key with a non-null value.
func has(obj map[string]json.RawMessage, key string) bool {
	v, ok := obj[key]
	return ok && string(v) != "null"
}

// parseTime parses an optional ISO 8601 timestamp as AWS writes them
// ("2026-10-17T12:26:03.931Z"); "" gives the zero time.
func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s: %v", ErrMalformed, field, err)
	}
	return t, nil
}
