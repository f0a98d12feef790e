package snsemu

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"reflect"
)

// xmlns is the namespace of SNS responses.
const xmlns = "http://sns.amazonaws.com/doc/" + APIVersion + "/"

// Errors of the in-process API, wrapped by the errors it returns.
var (
	// ErrNotFound means the topic or subscription does not exist.
	ErrNotFound = errors.New("snsemu: not found")
	// ErrInvalidParameter means a parameter is missing or invalid.
	ErrInvalidParameter = errors.New("snsemu: invalid parameter")
)

// apiError is an SNS error as the Query protocol carries it.
type apiError struct {
	status  int
	code    string // e.g. NotFound, InvalidParameter
	message string
}

// Error formats the error as "code: message".
func (e *apiError) Error() string { return e.code + ": " + e.message }

// Is maps the API errors onto the package's sentinel errors.
func (e *apiError) Is(target error) bool {
	return (target == ErrNotFound && e.code == "NotFound") ||
		(target == ErrInvalidParameter && (e.code == "InvalidParameter" || e.code == "ParameterValueInvalid"))
}

func errNotFound(format string, args ...any) *apiError {
	return &apiError{status: http.StatusNotFound, code: "NotFound", message: fmt.Sprintf(format, args...)}
}

func errInvalidParameter(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "InvalidParameter",
		message: "Invalid parameter: " + fmt.Sprintf(format, args...)}
}

func errParameterValueInvalid(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "ParameterValueInvalid", message: fmt.Sprintf(format, args...)}
}

func asAPIError(err error) *apiError {
	var e *apiError
	if errors.As(err, &e) {
		return e
	}
	return &apiError{status: http.StatusInternalServerError, code: "InternalError", message: err.Error()}
}

// errorResponse is the body of an error:
// <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>.
type errorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

func writeError(w http.ResponseWriter, requestID string, e *apiError) {
	fault := "Sender"
	if e.status >= 500 {
		fault = "Receiver"
	}
	writeXML(w, e.status, errorResponse{Xmlns: xmlns, Type: fault, Code: e.code, Message: e.message, RequestID: requestID})
}

// response is the body of a success: <XResponse><XResult>...</XResult>
// <ResponseMetadata><RequestId/></ResponseMetadata></XResponse>.
type response struct {
	XMLName   xml.Name
	Xmlns     string `xml:"xmlns,attr"`
	Result    any
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

// writeResult writes a success; result (a pointer to a struct with an
// XMLName field, or nil) becomes the <ActionResult> element.
func writeResult(w http.ResponseWriter, requestID, action string, result any) {
	if result != nil {
		if f := reflect.ValueOf(result).Elem().FieldByName("XMLName"); f.IsValid() {
			f.Set(reflect.ValueOf(xml.Name{Local: action + "Result"}))
		}
	}
	writeXML(w, http.StatusOK, response{
		XMLName: xml.Name{Local: action + "Response"}, Xmlns: xmlns, Result: result, RequestID: requestID,
	})
}

func writeXML(w http.ResponseWriter, status int, v any) {
	b, err := xml.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte("<ErrorResponse><Error><Type>Receiver</Type><Code>InternalError</Code>" +
			"<Message>encoding response</Message></Error></ErrorResponse>")
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(b)
}

// entry is one key/value of an Attributes map.
type entry struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

// tag is one member of a Tags list.
type tag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type topicArnResult struct {
	XMLName  xml.Name
	TopicArn string `xml:"TopicArn"`
}

type subscriptionArnResult struct {
	XMLName         xml.Name
	SubscriptionArn string `xml:"SubscriptionArn"`
}

type publishResult struct {
	XMLName   xml.Name
	MessageID string `xml:"MessageId"`
}

type topicMember struct {
	TopicArn string `xml:"TopicArn"`
}

type listTopicsResult struct {
	XMLName   xml.Name
	Topics    []topicMember `xml:"Topics>member"`
	NextToken string        `xml:"NextToken,omitempty"`
}

type subscriptionMember struct {
	SubscriptionArn string `xml:"SubscriptionArn"`
	Owner           string `xml:"Owner"`
	Protocol        string `xml:"Protocol"`
	Endpoint        string `xml:"Endpoint"`
	TopicArn        string `xml:"TopicArn"`
}

type listSubscriptionsResult struct {
	XMLName       xml.Name
	Subscriptions []subscriptionMember `xml:"Subscriptions>member"`
	NextToken     string               `xml:"NextToken,omitempty"`
}

type attributesResult struct {
	XMLName    xml.Name
	Attributes []entry `xml:"Attributes>entry"`
}

type tagsResult struct {
	XMLName xml.Name
	Tags    []tag `xml:"Tags>member"`
}

// emptyResult is the (empty) result element that TagResource and
// UntagResource answer with.
type emptyResult struct {
	XMLName xml.Name
}
