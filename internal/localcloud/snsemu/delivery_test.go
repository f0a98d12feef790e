package snsemu

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

const samplePath = "testdata/glacier-job-completed.sns.json"

// keyOrder returns the top-level keys of a JSON object in document order.
func keyOrder(t *testing.T, doc string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(doc))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %v %v", tok, err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func sampleDoc(t *testing.T) (raw string, fields map[string]any) {
	t.Helper()
	b, err := os.ReadFile(samplePath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSpace(b)), fields
}

func TestEnvelopeMatchesSampleExactly(t *testing.T) {
	raw, sample := sampleDoc(t)
	ts, err := time.Parse("2006-01-02T15:04:05.000Z", sample["Timestamp"].(string))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{region: "ap-northeast-1", account: "111122223333",
		endpoint: "https://sns.ap-northeast-1.amazonaws.com", now: (&fakeClock{t: ts}).Now})
	topicARN, err := e.sns.CreateTopic("vigil-glacier")
	if err != nil || topicARN != sample["TopicArn"] {
		t.Fatalf("CreateTopic = %s, %v; want %v", topicARN, err, sample["TopicArn"])
	}
	url, queueARN := e.queue(t, "vigil-notifications")
	subARN, err := e.sns.Subscribe(topicARN, queueARN, false)
	if err != nil {
		t.Fatal(err)
	}
	id, err := e.sns.Publish(topicARN, "", sample["Message"].(string))
	if err != nil {
		t.Fatal(err)
	}
	got := aws.ToString(e.receiveOne(t, url).Body)

	if keys, want := keyOrder(t, got), keyOrder(t, raw); !slices.Equal(keys, want) {
		t.Fatalf("envelope keys %v, sample keys %v", keys, want)
	}
	var env map[string]any
	if err := json.Unmarshal([]byte(got), &env); err != nil {
		t.Fatal(err)
	}
	if env["MessageId"] != id {
		t.Errorf("MessageId = %v, want the published %s", env["MessageId"], id)
	}
	if sig, err := base64.StdEncoding.DecodeString(env["Signature"].(string)); err != nil || len(sig) != 256 {
		t.Errorf("Signature is not base64 of 256 bytes: %v", err)
	}
	if env["UnsubscribeURL"] != "https://sns.ap-northeast-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn="+subARN {
		t.Errorf("UnsubscribeURL = %v", env["UnsubscribeURL"])
	}
	// Apart from the per-message fields, the document is byte-for-byte the
	// sample, layout included.
	normalize := func(doc string) string {
		for _, re := range []*regexp.Regexp{
			regexp.MustCompile(`("MessageId" : ")[^"]*`),
			regexp.MustCompile(`("Signature" : ")[^"]*`),
			regexp.MustCompile(`(SimpleNotificationService-)[^.]*`),
			regexp.MustCompile(`(SubscriptionArn=arn:aws:sns:[^:]*:[^:]*:[^:]*:)[^"]*`),
		} {
			doc = re.ReplaceAllString(doc, "${1}X")
		}
		return doc
	}
	if normalize(got) != normalize(raw) {
		t.Errorf("envelope differs from the sample:\ngot:\n%s\nwant:\n%s", normalize(got), normalize(raw))
	}
}

func TestPublishEnvelopeWithSubjectAndAttributes(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 10, 17, 12, 26, 4, 58_000_000, time.UTC)}
	e := newEnv(t, envOptions{now: clock.Now})
	topicARN := e.topic(t, "events")
	url, queueARN := e.queue(t, "events-q")
	e.subscribe(t, topicARN, queueARN, nil)

	out, err := e.snsc.Publish(context.Background(), &sns.PublishInput{
		TopicArn: &topicARN, Subject: aws.String("Job <done> & dusted"), Message: aws.String(`{"a":"<b>"}`),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"kind":  {DataType: aws.String("String"), StringValue: aws.String("glacier")},
			"count": {DataType: aws.String("Number"), StringValue: aws.String("3")},
			"blob":  {DataType: aws.String("Binary"), BinaryValue: []byte("hi")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := e.receiveOne(t, url)
	if len(m.MessageAttributes) != 0 {
		t.Errorf("envelope delivery carried SQS message attributes: %v", m.MessageAttributes)
	}
	body := aws.ToString(m.Body)
	_, sample := sampleDoc(t)
	wantKeys := []string{"Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp", "SignatureVersion",
		"Signature", "SigningCertURL", "UnsubscribeURL", "MessageAttributes"}
	if keys := keyOrder(t, body); !slices.Equal(keys, wantKeys) {
		t.Fatalf("keys = %v, want %v", keys, wantKeys)
	}
	for k := range sample {
		if !slices.Contains(wantKeys, k) {
			t.Errorf("sample key %s missing from the envelope", k)
		}
	}
	var env struct {
		Type, MessageId, TopicArn, Subject, Message, Timestamp, SignatureVersion string
		MessageAttributes                                                        map[string]struct{ Type, Value string }
	}
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatalf("envelope is not JSON: %v\n%s", err, body)
	}
	want := map[string]string{
		"Type": env.Type, "MessageId": env.MessageId, "TopicArn": env.TopicArn, "Subject": env.Subject,
		"Message": env.Message, "Timestamp": env.Timestamp, "SignatureVersion": env.SignatureVersion,
	}
	for k, v := range map[string]string{
		"Type": "Notification", "MessageId": aws.ToString(out.MessageId), "TopicArn": topicARN,
		"Subject": "Job <done> & dusted", "Message": `{"a":"<b>"}`, "Timestamp": "2026-10-17T12:26:04.058Z",
		"SignatureVersion": "1",
	} {
		if want[k] != v {
			t.Errorf("%s = %q, want %q", k, want[k], v)
		}
	}
	if strings.Contains(body, `\u003c`) {
		t.Error("envelope escapes HTML characters; SNS does not")
	}
	wantAttrs := map[string]struct{ Type, Value string }{
		"kind": {"String", "glacier"}, "count": {"Number", "3"}, "blob": {"Binary", "aGk="},
	}
	if len(env.MessageAttributes) != 3 {
		t.Errorf("MessageAttributes = %v", env.MessageAttributes)
	}
	for k, v := range wantAttrs {
		if env.MessageAttributes[k] != v {
			t.Errorf("MessageAttributes[%s] = %v, want %v", k, env.MessageAttributes[k], v)
		}
	}
}

func TestRawDelivery(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	topicARN := e.topic(t, "raw")
	url, queueARN := e.queue(t, "raw-q")
	subARN := e.subscribe(t, topicARN, queueARN, map[string]string{"RawMessageDelivery": "true"})

	attrs, err := e.snsc.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: &subARN})
	if err != nil || attrs.Attributes["RawMessageDelivery"] != "true" || attrs.Attributes["Endpoint"] != queueARN ||
		attrs.Attributes["Protocol"] != "sqs" || attrs.Attributes["TopicArn"] != topicARN {
		t.Fatalf("GetSubscriptionAttributes = %v, %v", attrs.Attributes, err)
	}
	message := `{"Records":[{"eventName":"ObjectCreated:Put"}]}`
	if _, err := e.snsc.Publish(ctx, &sns.PublishInput{TopicArn: &topicARN, Message: &message, Subject: aws.String("ignored"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"kind": {DataType: aws.String("String"), StringValue: aws.String("s3")},
		}}); err != nil {
		t.Fatal(err)
	}
	m := e.receiveOne(t, url)
	if aws.ToString(m.Body) != message {
		t.Errorf("raw body = %q, want %q", aws.ToString(m.Body), message)
	}
	if aws.ToString(m.MessageAttributes["kind"].StringValue) != "s3" {
		t.Errorf("raw delivery attributes = %v", m.MessageAttributes)
	}

	// Switching raw delivery off brings the envelope back.
	if _, err := e.snsc.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{SubscriptionArn: &subARN,
		AttributeName: aws.String("RawMessageDelivery"), AttributeValue: aws.String("false")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sns.Publish(topicARN, "", message); err != nil {
		t.Fatal(err)
	}
	var env map[string]any
	body := aws.ToString(e.receiveAll(t, url)[0].Body)
	if err := json.Unmarshal([]byte(body), &env); err != nil || env["Type"] != "Notification" || env["Message"] != message {
		t.Errorf("after disabling raw delivery got %s", body)
	}
}

func TestFanOutAndJSONMessageStructure(t *testing.T) {
	e := newEnv(t, envOptions{})
	topicARN := e.topic(t, "fan")
	url1, arn1 := e.queue(t, "fan-1")
	url2, arn2 := e.queue(t, "fan-2")
	e.subscribe(t, topicARN, arn1, map[string]string{"RawMessageDelivery": "true"})
	e.subscribe(t, topicARN, arn2, map[string]string{"RawMessageDelivery": "true"})
	// A subscription whose queue is gone fails alone; the publish succeeds.
	e.subscribe(t, topicARN, e.sqs.QueueARN("missing"), nil)

	out, err := e.snsc.Publish(context.Background(), &sns.PublishInput{TopicArn: &topicARN, MessageStructure: aws.String("json"),
		Message: aws.String(`{"default":"for everyone","sqs":"for queues","email":"for people"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.MessageId) == "" {
		t.Error("no MessageId")
	}
	for _, url := range []string{url1, url2} {
		if got := aws.ToString(e.receiveOne(t, url).Body); got != "for queues" {
			t.Errorf("%s got %q, want the sqs entry", url, got)
		}
	}
	_, err = e.snsc.Publish(context.Background(), &sns.PublishInput{TopicArn: &topicARN, MessageStructure: aws.String("json"),
		Message: aws.String(`{"sqs":"no default"}`)})
	wantAPIError[*snstypes.InvalidParameterException](t, err, "InvalidParameter")
}
