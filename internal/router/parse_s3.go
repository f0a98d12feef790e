package router

import (
	"encoding/json"
	"fmt"
	"net/url"
)

// s3RecordWire is one element of an S3 event's Records array.
type s3RecordWire struct {
	EventSource string `json:"eventSource"`
	AWSRegion   string `json:"awsRegion"`
	EventTime   string `json:"eventTime"`
	EventName   string `json:"eventName"`
	S3          *struct {
		ConfigurationID string `json:"configurationId"`
		Bucket          struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key       string `json:"key"`
			Size      int64  `json:"size"`
			ETag      string `json:"eTag"`
			VersionID string `json:"versionId"`
			Sequencer string `json:"sequencer"`
		} `json:"object"`
	} `json:"s3"`
	GlacierEventData *struct {
		RestoreEventData struct {
			ExpiryTime   string `json:"lifecycleRestorationExpiryTime"`
			StorageClass string `json:"lifecycleRestoreStorageClass"`
		} `json:"restoreEventData"`
	} `json:"glacierEventData"`
}

// s3TestEventWire is the s3:TestEvent message.
type s3TestEventWire struct {
	Service   string `json:"Service"`
	Event     string `json:"Event"`
	Time      string `json:"Time"`
	Bucket    string `json:"Bucket"`
	RequestID string `json:"RequestId"`
}

func parseS3Records(raw json.RawMessage) ([]S3Record, error) {
	var wire []s3RecordWire
	if err := json.Unmarshal(raw, &wire); err != nil {
		return nil, fmt.Errorf("%w: S3 Records: %v", ErrMalformed, err)
	}
	if len(wire) == 0 {
		return nil, fmt.Errorf("%w: S3 event without records", ErrMalformed)
	}
	recs := make([]S3Record, 0, len(wire))
	for i, w := range wire {
		rec, err := s3Record(w)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

func s3Record(w s3RecordWire) (S3Record, error) {
	if w.EventSource != "" && w.EventSource != "aws:s3" {
		return S3Record{}, fmt.Errorf("%w: record from %q", ErrUnrecognized, w.EventSource)
	}
	if w.S3 == nil || w.S3.Bucket.Name == "" || w.S3.Object.Key == "" || w.EventName == "" {
		return S3Record{}, fmt.Errorf("%w: S3 record without eventName, bucket name or object key", ErrMalformed)
	}
	// S3 encodes keys like an HTML form: '+' for space, %XX for the rest.
	key, err := url.QueryUnescape(w.S3.Object.Key)
	if err != nil {
		return S3Record{}, fmt.Errorf("%w: S3 object key: %v", ErrMalformed, err)
	}
	at, err := parseTime("S3 eventTime", w.EventTime)
	if err != nil {
		return S3Record{}, err
	}
	rec := S3Record{
		EventName:       w.EventName,
		EventTime:       at,
		Region:          w.AWSRegion,
		Bucket:          w.S3.Bucket.Name,
		Key:             key,
		Size:            w.S3.Object.Size,
		ETag:            w.S3.Object.ETag,
		VersionID:       w.S3.Object.VersionID,
		Sequencer:       w.S3.Object.Sequencer,
		ConfigurationID: w.S3.ConfigurationID,
	}
	if g := w.GlacierEventData; g != nil {
		rec.RestoreExpiryTime, err = parseTime("S3 lifecycleRestorationExpiryTime", g.RestoreEventData.ExpiryTime)
		if err != nil {
			return S3Record{}, err
		}
		rec.RestoreStorageClass = g.RestoreEventData.StorageClass
	}
	return rec, nil
}

func parseS3TestEvent(raw []byte) (*S3TestEvent, error) {
	var w s3TestEventWire
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("%w: S3 test event: %v", ErrMalformed, err)
	}
	if w.Event != "s3:TestEvent" {
		return nil, fmt.Errorf("%w: event %q", ErrUnrecognized, w.Event)
	}
	at, err := parseTime("S3 test event Time", w.Time)
	if err != nil {
		return nil, err
	}
	return &S3TestEvent{Bucket: w.Bucket, Time: at, RequestID: w.RequestID}, nil
}
