package snsemu

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

func TestIdempotentCreateTopicAndSubscribe(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	first := e.topic(t, "idem")
	if second := e.topic(t, "idem"); second != first || first != "arn:aws:sns:us-east-1:000000000000:idem" {
		t.Fatalf("CreateTopic twice = %s, %s", first, second)
	}
	topics, err := e.snsc.ListTopics(ctx, &sns.ListTopicsInput{})
	if err != nil || len(topics.Topics) != 1 || aws.ToString(topics.Topics[0].TopicArn) != first {
		t.Fatalf("ListTopics = %+v, %v", topics, err)
	}
	_, err = e.snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("idem"),
		Attributes: map[string]string{"DisplayName": "other"}})
	wantAPIError[*snstypes.InvalidParameterException](t, err, "InvalidParameter")

	_, queueARN := e.queue(t, "idem-q")
	sub1 := e.subscribe(t, first, queueARN, nil)
	sub2 := e.subscribe(t, first, queueARN, map[string]string{"RawMessageDelivery": "false"})
	if sub1 != sub2 || !strings.HasPrefix(sub1, first+":") {
		t.Fatalf("Subscribe twice = %s, %s", sub1, sub2)
	}
	subs, err := e.snsc.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: &first})
	if err != nil || len(subs.Subscriptions) != 1 {
		t.Fatalf("ListSubscriptionsByTopic = %+v, %v", subs, err)
	}
	s := subs.Subscriptions[0]
	if aws.ToString(s.SubscriptionArn) != sub1 || aws.ToString(s.Endpoint) != queueARN || aws.ToString(s.Protocol) != "sqs" ||
		aws.ToString(s.Owner) != "000000000000" || aws.ToString(s.TopicArn) != first {
		t.Errorf("subscription = %+v", s)
	}
	_, err = e.snsc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &first, Protocol: aws.String("sqs"), Endpoint: &queueARN,
		Attributes: map[string]string{"RawMessageDelivery": "true"}})
	wantAPIError[*snstypes.InvalidParameterException](t, err, "InvalidParameter")
}

func TestTypedErrors(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	missingTopic := "arn:aws:sns:us-east-1:000000000000:missing"
	topicARN := e.topic(t, "errs")
	_, queueARN := e.queue(t, "errs-q")

	tests := []struct {
		name string
		call func() error
		code string
	}{
		{"Publish unknown topic", func() error {
			_, err := e.snsc.Publish(ctx, &sns.PublishInput{TopicArn: &missingTopic, Message: aws.String("x")})
			return err
		}, "NotFound"},
		{"Subscribe unknown topic", func() error {
			_, err := e.snsc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &missingTopic, Protocol: aws.String("sqs"), Endpoint: &queueARN})
			return err
		}, "NotFound"},
		{"ListSubscriptionsByTopic unknown topic", func() error {
			_, err := e.snsc.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: &missingTopic})
			return err
		}, "NotFound"},
		{"GetSubscriptionAttributes unknown", func() error {
			_, err := e.snsc.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(topicARN + ":nope")})
			return err
		}, "NotFound"},
		{"Unsubscribe unknown", func() error {
			_, err := e.snsc.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(topicARN + ":nope")})
			return err
		}, "NotFound"},
		{"Publish malformed ARN", func() error {
			_, err := e.snsc.Publish(ctx, &sns.PublishInput{TopicArn: aws.String("errs"), Message: aws.String("x")})
			return err
		}, "InvalidParameter"},
		{"Publish empty message", func() error {
			_, err := e.snsc.Publish(ctx, &sns.PublishInput{TopicArn: &topicARN, Message: aws.String("")})
			return err
		}, "InvalidParameter"},
		{"Publish bad subject", func() error {
			_, err := e.snsc.Publish(ctx, &sns.PublishInput{TopicArn: &topicARN, Message: aws.String("x"), Subject: aws.String("two\nlines")})
			return err
		}, "InvalidParameter"},
		{"Subscribe http protocol", func() error {
			_, err := e.snsc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &topicARN, Protocol: aws.String("https"), Endpoint: aws.String("https://example.com")})
			return err
		}, "InvalidParameter"},
		{"Subscribe endpoint not a queue ARN", func() error {
			_, err := e.snsc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &topicARN, Protocol: aws.String("sqs"), Endpoint: aws.String("http://localhost/000000000000/q")})
			return err
		}, "InvalidParameter"},
		{"Publish bad number attribute", func() error {
			_, err := e.snsc.Publish(ctx, &sns.PublishInput{TopicArn: &topicARN, Message: aws.String("x"),
				MessageAttributes: map[string]snstypes.MessageAttributeValue{"n": {DataType: aws.String("Number"), StringValue: aws.String("many")}}})
			return err
		}, "ParameterValueInvalid"},
		{"CreateTopic bad name", func() error {
			_, err := e.snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("no spaces please")})
			return err
		}, "InvalidParameter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			switch tc.code {
			case "NotFound":
				nf := wantAPIError[*snstypes.NotFoundException](t, err, "NotFound")
				if nf.ErrorMessage() == "" {
					t.Error("empty message")
				}
			case "InvalidParameter":
				wantAPIError[*snstypes.InvalidParameterException](t, err, "InvalidParameter")
			case "ParameterValueInvalid":
				wantAPIError[*snstypes.InvalidParameterValueException](t, err, "ParameterValueInvalid")
			}
		})
	}

	if _, err := e.sns.Publish(missingTopic, "", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("in-process Publish(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := e.sns.Subscribe(topicARN, "not-an-arn", false); !errors.Is(err, ErrInvalidParameter) {
		t.Errorf("in-process Subscribe(bad endpoint) = %v, want ErrInvalidParameter", err)
	}
	if _, err := e.sns.CreateTopic("bad name"); !errors.Is(err, ErrInvalidParameter) {
		t.Errorf("in-process CreateTopic(bad name) = %v, want ErrInvalidParameter", err)
	}
}

func TestDeleteTopicAndUnsubscribe(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	topicARN := e.topic(t, "gone")
	url, queueARN := e.queue(t, "gone-q")
	subARN := e.subscribe(t, topicARN, queueARN, nil)

	if _, err := e.snsc.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: &subARN}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sns.Publish(topicARN, "", "nobody listens"); err != nil {
		t.Fatal(err)
	}
	if msgs := e.receiveAll(t, url); len(msgs) != 0 {
		t.Errorf("unsubscribed queue received %d messages", len(msgs))
	}

	e.subscribe(t, topicARN, queueARN, nil)
	if _, err := e.snsc.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: &topicARN}); err != nil {
		t.Fatal(err)
	}
	all, err := e.snsc.ListSubscriptions(ctx, &sns.ListSubscriptionsInput{})
	if err != nil || len(all.Subscriptions) != 0 {
		t.Errorf("subscriptions after DeleteTopic = %+v, %v", all, err)
	}
	_, err = e.snsc.Publish(ctx, &sns.PublishInput{TopicArn: &topicARN, Message: aws.String("x")})
	wantAPIError[*snstypes.NotFoundException](t, err, "NotFound")
	// Deleting a missing topic is not an error in SNS.
	if _, err := e.snsc.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: &topicARN}); err != nil {
		t.Errorf("second DeleteTopic: %v", err)
	}
}

func TestListTopicsPaging(t *testing.T) {
	e := newEnv(t, envOptions{})
	for i := range 150 {
		if _, err := e.sns.CreateTopic(fmt.Sprintf("t-%03d", i)); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	pages := 0
	p := sns.NewListTopicsPaginator(e.snsc, &sns.ListTopicsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, tp := range page.Topics {
			seen[aws.ToString(tp.TopicArn)] = true
		}
	}
	if pages != 2 || len(seen) != 150 {
		t.Errorf("paged ListTopics: %d pages, %d distinct topics; want 2 and 150", pages, len(seen))
	}
}

func TestTopicAttributesAndTags(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	topicARN := e.topic(t, "attrs")
	_, queueARN := e.queue(t, "attrs-q")
	e.subscribe(t, topicARN, queueARN, nil)
	if _, err := e.snsc.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: &topicARN,
		AttributeName: aws.String("DisplayName"), AttributeValue: aws.String("Vigil")}); err != nil {
		t.Fatal(err)
	}
	out, err := e.snsc.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: &topicARN})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"TopicArn": topicARN, "DisplayName": "Vigil", "SubscriptionsConfirmed": "1", "Owner": "000000000000"} {
		if out.Attributes[k] != v {
			t.Errorf("%s = %q, want %q", k, out.Attributes[k], v)
		}
	}
	if !strings.Contains(out.Attributes["Policy"], topicARN) {
		t.Errorf("default Policy = %s", out.Attributes["Policy"])
	}
	_, err = e.snsc.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: &topicARN,
		AttributeName: aws.String("Colour"), AttributeValue: aws.String("red")})
	wantAPIError[*snstypes.InvalidParameterException](t, err, "InvalidParameter")

	if _, err := e.snsc.TagResource(ctx, &sns.TagResourceInput{ResourceArn: &topicARN,
		Tags: []snstypes.Tag{{Key: aws.String("team"), Value: aws.String("ops")}, {Key: aws.String("env"), Value: aws.String("dev")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.snsc.UntagResource(ctx, &sns.UntagResourceInput{ResourceArn: &topicARN, TagKeys: []string{"env"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := e.snsc.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: &topicARN})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" {
		t.Errorf("tags = %+v, %v", tags, err)
	}
	_, err = e.snsc.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: aws.String(topicARN + "-missing")})
	wantAPIError[*snstypes.ResourceNotFoundException](t, err, "ResourceNotFound")
}

func formRequest(method, path, contentType, body string) *http.Request {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

func TestMatch(t *testing.T) {
	s := New(Options{})
	form := "application/x-www-form-urlencoded; charset=utf-8"
	tests := []struct {
		name string
		req  *http.Request
		want bool
	}{
		{"publish", formRequest("POST", "/", form, "Action=Publish&Version=2010-03-31&TopicArn=x&Message=m"), true},
		{"unimplemented SNS action", formRequest("POST", "/", form, "Action=CreatePlatformEndpoint&Version=2010-03-31"), true},
		{"action in query", formRequest("POST", "/?Action=ListTopics", form, ""), true},
		{"other service's action", formRequest("POST", "/", form, "Action=AssumeRole&Version=2011-06-15"), false},
		{"SNS action, other version", formRequest("POST", "/", form, "Action=Publish&Version=2011-06-15"), false},
		{"JSON body", formRequest("POST", "/", "application/x-amz-json-1.0", `{"Action":"Publish"}`), false},
		{"not root", formRequest("POST", "/bucket", form, "Action=Publish"), false},
		{"GET", formRequest("GET", "/", form, "Action=Publish"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var before string
			if tc.req.Body != nil {
				b, _ := io.ReadAll(tc.req.Body)
				before = string(b)
				tc.req.Body = io.NopCloser(strings.NewReader(before))
			}
			if got := s.Match(tc.req); got != tc.want {
				t.Fatalf("Match = %v, want %v", got, tc.want)
			}
			after, _ := io.ReadAll(tc.req.Body)
			if string(after) != before {
				t.Errorf("Match consumed the body: %q left of %q", after, before)
			}
		})
	}
}

func TestRawXML(t *testing.T) {
	s := New(Options{})
	serve := func(body string) (*httptest.ResponseRecorder, string) {
		r := formRequest("POST", "/", "application/x-www-form-urlencoded", body)
		if !s.Match(r) {
			t.Fatalf("Match(%s) = false", body)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w, w.Body.String()
	}
	w, body := serve("Action=CreateTopic&Name=xml&Version=2010-03-31")
	var ok struct {
		XMLName   xml.Name
		TopicArn  string `xml:"CreateTopicResult>TopicArn"`
		RequestID string `xml:"ResponseMetadata>RequestId"`
	}
	if err := xml.Unmarshal([]byte(body), &ok); err != nil || w.Code != 200 || ok.XMLName.Local != "CreateTopicResponse" ||
		ok.XMLName.Space != "http://sns.amazonaws.com/doc/2010-03-31/" || ok.TopicArn != "arn:aws:sns:us-east-1:000000000000:xml" ||
		ok.RequestID == "" {
		t.Errorf("CreateTopic response %d %s (%v)", w.Code, body, err)
	}

	w, body = serve("Action=GetTopicAttributes&TopicArn=arn:aws:sns:us-east-1:000000000000:nope&Version=2010-03-31")
	var fail struct {
		XMLName   xml.Name
		Type      string `xml:"Error>Type"`
		Code      string `xml:"Error>Code"`
		Message   string `xml:"Error>Message"`
		RequestID string `xml:"RequestId"`
	}
	if err := xml.Unmarshal([]byte(body), &fail); err != nil || w.Code != 404 || fail.XMLName.Local != "ErrorResponse" ||
		fail.Type != "Sender" || fail.Code != "NotFound" || fail.Message == "" || fail.RequestID == "" {
		t.Errorf("error response %d %s (%v)", w.Code, body, err)
	}

	w, body = serve("Action=CreatePlatformEndpoint&Version=2010-03-31")
	if w.Code != 400 || !strings.Contains(body, "<Code>InvalidAction</Code>") {
		t.Errorf("unsupported action: %d %s", w.Code, body)
	}
	if s.Name() != "sns" {
		t.Errorf("Name = %s", s.Name())
	}
}
