package router

import (
	"errors"
	"os"
	"reflect"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, path := range sampleFiles(f) {
		body, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	f.Add([]byte(""))
	f.Add([]byte(`{"Records":[]}`))
	f.Add([]byte(snsWrap("t", `{"Records":[`+s3Rec("ObjectCreated:Put", "b", "a%20b+c")+`]}`)))

	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := Parse(string(body))
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnrecognized) {
				t.Fatalf("error %v wraps neither ErrMalformed nor ErrUnrecognized", err)
			}
			if !reflect.DeepEqual(n, Notification{}) {
				t.Fatalf("non-zero Notification with error: %s", dump(n))
			}
			return
		}
		if n.Source != SourceRaw && n.Source != SourceSNS {
			t.Fatalf("Source = %q", n.Source)
		}
		if n.Source == SourceRaw && n.TopicARN != "" {
			t.Fatalf("raw notification with TopicARN %q", n.TopicARN)
		}
		set := 0
		if n.Glacier != nil {
			set++
		}
		if len(n.S3) > 0 {
			set++
		}
		if n.S3Test != nil {
			set++
		}
		if set != 1 {
			t.Fatalf("%d payloads set: %s", set, dump(n))
		}
		switch n.Kind {
		case KindS3Event:
			if len(n.S3) == 0 {
				t.Fatal("S3 event without records")
			}
			for i, r := range n.S3 {
				if r.Bucket == "" || r.Key == "" || r.EventName == "" {
					t.Fatalf("record %d lacks bucket, key or event name: %+v", i, r)
				}
			}
		case KindGlacierJob:
			if n.Glacier == nil || n.Glacier.JobID == "" || n.Glacier.Action == "" {
				t.Fatalf("Glacier job without JobID or Action: %s", dump(n))
			}
		case KindS3TestEvent:
			if n.S3Test == nil {
				t.Fatal("test event without S3Test")
			}
		default:
			t.Fatalf("unknown Kind %q", n.Kind)
		}
		again, err := Parse(string(body))
		if err != nil || !reflect.DeepEqual(again, n) {
			t.Fatalf("Parse is not deterministic: %v", err)
		}
	})
}
