package router

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func sprint(v any) string { return fmt.Sprintf("%+v", v) }

// snsWrap wraps payload in an SNS envelope as SNS delivers it to SQS.
func snsWrap(topic, payload string) string {
	b, err := json.Marshal(map[string]string{
		"Type":      "Notification",
		"MessageId": "11111111-2222-3333-4444-555555555555",
		"TopicArn":  topic,
		"Message":   payload,
		"Timestamp": "2026-11-20T03:20:00.123Z",
	})
	if err != nil {
		panic(err)
	}
	return string(b)
}

func s3Rec(event, bucket, key string) string {
	return fmt.Sprintf(`{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",`+
		`"eventTime":"2026-11-20T03:14:15.926Z","eventName":%q,`+
		`"s3":{"bucket":{"name":%q},"object":{"key":%q,"size":5,"eTag":"abc","sequencer":"01"}}}`, event, bucket, key)
}

func TestParseS3MultipleRecordsViaSNS(t *testing.T) {
	payload := `{"Records":[` + s3Rec("ObjectCreated:Put", "b1", "a%2Fb+c.txt") + "," +
		s3Rec("ObjectRemoved:Delete", "b2", "%E6%97%A5%E6%9C%AC+%2B1") + "]}"
	n, err := Parse(snsWrap("arn:aws:sns:us-east-1:1:t", payload))
	if err != nil {
		t.Fatal(err)
	}
	if n.Kind != KindS3Event || n.Source != SourceSNS || n.TopicARN != "arn:aws:sns:us-east-1:1:t" {
		t.Fatalf("got %s", dump(n))
	}
	if len(n.S3) != 2 {
		t.Fatalf("got %d records, want 2", len(n.S3))
	}
	want := []struct{ event, bucket, key string }{
		{"ObjectCreated:Put", "b1", "a/b c.txt"},
		{"ObjectRemoved:Delete", "b2", "日本 +1"},
	}
	for i, w := range want {
		r := n.S3[i]
		if r.EventName != w.event || r.Bucket != w.bucket || r.Key != w.key || r.Size != 5 || r.ETag != "abc" {
			t.Errorf("record %d = %+v, want %+v", i, r, w)
		}
	}
}

func TestParseGlacierViaSNSWithNulls(t *testing.T) {
	payload := `{"Action":"InventoryRetrieval","JobId":"J1","JobDescription":null,"ArchiveId":null,` +
		`"ArchiveSizeInBytes":null,"Completed":true,"StatusCode":"Failed","StatusMessage":"boom",` +
		`"VaultARN":"arn:aws:glacier:us-east-1:1:vaults/v-1","CompletionDate":null}`
	n, err := Parse(snsWrap("arn:t", payload))
	if err != nil {
		t.Fatal(err)
	}
	g := n.Glacier
	if n.Kind != KindGlacierJob || g == nil || g.JobID != "J1" || g.JobDescription != "" || g.StatusCode != "Failed" {
		t.Fatalf("got %s", dump(n))
	}
	if g.VaultName() != "v-1" || g.Succeeded() || !g.CompletionDate.IsZero() {
		t.Errorf("VaultName=%q Succeeded=%v CompletionDate=%v", g.VaultName(), g.Succeeded(), g.CompletionDate)
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name, body string
		want       error
	}{
		{"empty", "", ErrMalformed},
		{"whitespace", " \n", ErrMalformed},
		{"not JSON", "hello", ErrMalformed},
		{"truncated JSON", `{"Records":[`, ErrMalformed},
		{"JSON null", "null", ErrMalformed},
		{"JSON array", `[1,2]`, ErrMalformed},
		{"JSON string", `"x"`, ErrMalformed},
		{"empty object", `{}`, ErrUnrecognized},
		{"unknown JSON", `{"hello":"world","n":1}`, ErrUnrecognized},
		{"SNS subscription confirmation", `{"Type":"SubscriptionConfirmation","Message":"You have chosen...","SubscribeURL":"https://x"}`, ErrUnrecognized},
		{"SNS without Message", `{"Type":"Notification","TopicArn":"t"}`, ErrMalformed},
		{"SNS Message not JSON", snsWrap("t", "plain text"), ErrMalformed},
		{"SNS Message unknown JSON", snsWrap("t", `{"a":1}`), ErrUnrecognized},
		{"SNS Type not a string", `{"Type":5,"Message":"{}"}`, ErrMalformed},
		{"double SNS envelope", snsWrap("t", snsWrap("t", `{"Records":[`+s3Rec("ObjectCreated:Put", "b", "k")+`]}`)), ErrUnrecognized},
		{"no records", `{"Records":[]}`, ErrMalformed},
		{"records not array", `{"Records":{"a":1}}`, ErrMalformed},
		{"record null", `{"Records":[null]}`, ErrMalformed},
		{"record without bucket", `{"Records":[` + s3Rec("ObjectCreated:Put", "", "k") + `]}`, ErrMalformed},
		{"record without key", `{"Records":[` + s3Rec("ObjectCreated:Put", "b", "") + `]}`, ErrMalformed},
		{"record without event name", `{"Records":[` + s3Rec("", "b", "k") + `]}`, ErrMalformed},
		{"record bad key escape", `{"Records":[` + s3Rec("ObjectCreated:Put", "b", "a%zz") + `]}`, ErrMalformed},
		{"record bad time", strings.Replace(`{"Records":[`+s3Rec("ObjectCreated:Put", "b", "k")+`]}`, "2026-11-20T03:14:15.926Z", "yesterday", 1), ErrMalformed},
		{"record size is a string", strings.Replace(`{"Records":[`+s3Rec("ObjectCreated:Put", "b", "k")+`]}`, `"size":5`, `"size":"5"`, 1), ErrMalformed},
		{"second record bad", `{"Records":[` + s3Rec("ObjectCreated:Put", "b", "k") + `,{"eventSource":"aws:s3"}]}`, ErrMalformed},
		{"records from another service", `{"Records":[{"eventSource":"aws:ses","eventName":"x"}]}`, ErrUnrecognized},
		{"other S3 test-like event", `{"Service":"Amazon S3","Event":"s3:Other"}`, ErrUnrecognized},
		{"glacier unknown action", `{"Action":"Delete","JobId":"J"}`, ErrUnrecognized},
		{"glacier empty job id", `{"Action":"ArchiveRetrieval","JobId":""}`, ErrMalformed},
		{"glacier Completed not bool", `{"Action":"ArchiveRetrieval","JobId":"J","Completed":"true"}`, ErrMalformed},
		{"glacier bad date", `{"Action":"ArchiveRetrieval","JobId":"J","CompletionDate":"12/01/2026"}`, ErrMalformed},
		{"glacier null JobId", `{"Action":"ArchiveRetrieval","JobId":null}`, ErrUnrecognized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := Parse(tc.body)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Parse error = %v, want %v", err, tc.want)
			}
			if n.Kind != "" {
				t.Errorf("Parse returned %s with an error", dump(n))
			}
		})
	}
}

func TestNotificationLogValue(t *testing.T) {
	n, err := Parse(`{"Records":[` + s3Rec("ObjectCreated:Put", "bkt", "k+1") + `]}`)
	if err != nil {
		t.Fatal(err)
	}
	got := n.LogValue().Resolve().String()
	for _, want := range []string{"s3-event", "raw", "ObjectCreated:Put", "bkt", "k 1"} {
		if !strings.Contains(got, want) {
			t.Errorf("LogValue %q lacks %q", got, want)
		}
	}
	var _ slog.LogValuer = n
}

func TestTruncate(t *testing.T) {
	if got := truncate("short", 10); got != "short" {
		t.Errorf("truncate(short) = %q", got)
	}
	got := truncate(strings.Repeat("é", 10), 5) // 2-byte runes: cut back to 4 bytes
	if got != "éé…(20 bytes)" {
		t.Errorf("truncate = %q", got)
	}
}
