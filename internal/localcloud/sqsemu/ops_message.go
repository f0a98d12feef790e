package sqsemu

import (
	"maps"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// maxBatchBytes bounds the summed message sizes of a SendMessageBatch.
const maxBatchBytes = 1048576

// validBody reports whether body holds only the characters SQS allows.
func validBody(body string) bool {
	for i, r := range body {
		switch {
		case r == utf8.RuneError:
			if _, size := utf8.DecodeRuneInString(body[i:]); size == 1 {
				return false
			}
		case r == 0x9 || r == 0xA || r == 0xD:
		case r >= 0x20 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
		default:
			return false
		}
	}
	return true
}

var attrNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,256}$`)

// validAttrName applies SQS's rules for message attribute names.
func validAttrName(name string) bool {
	lower := strings.ToLower(name)
	return attrNameRE.MatchString(name) && !strings.HasPrefix(lower, "aws.") &&
		!strings.HasPrefix(lower, "amazon.") && !strings.HasPrefix(name, ".") &&
		!strings.HasSuffix(name, ".") && !strings.Contains(name, "..")
}

// validateAttributes checks message (or, with system set, message system)
// attributes as SQS does.
func validateAttributes(attrs map[string]attributeValue, system bool) error {
	kind := "user"
	if system {
		kind = "system"
	}
	if len(attrs) > 10 {
		return errInvalidParameterValue("Number of message attributes [%d] exceeds the allowed maximum [10].", len(attrs))
	}
	for name, v := range attrs {
		if system && name != "AWSTraceHeader" {
			return errInvalidParameterValue("Message system attribute name '%s' is invalid.", name)
		}
		if !system && !validAttrName(name) {
			return errInvalidParameterValue("Message (user) attribute name '%s' is invalid. Names may contain "+
				"alphanumerics, hyphens, underscores and periods, must not start with AWS. or Amazon., "+
				"and must not start or end with a period or hold two periods in a row.", name)
		}
		if len(v.StringListValues) > 0 || len(v.BinaryListValues) > 0 {
			return errInvalidParameterValue("Message attribute list values in SendMessage operation are not supported.")
		}
		base, _, _ := strings.Cut(v.DataType, ".")
		switch base {
		case "String", "Number":
			if v.StringValue == nil || *v.StringValue == "" {
				return errInvalidParameterValue("Message (%s) attribute '%s' must contain a non-empty value "+
					"of message attribute type '%s'.", kind, name, base)
			}
			if base == "Number" {
				if _, err := strconv.ParseFloat(*v.StringValue, 64); err != nil {
					return errInvalidParameterValue("Could not cast message attribute '%s' value to number.", name)
				}
			}
		case "Binary":
			if len(v.BinaryValue) == 0 {
				return errInvalidParameterValue("Message (%s) attribute '%s' must contain a non-empty value "+
					"of message attribute type 'Binary'.", kind, name)
			}
		case "":
			return errInvalidParameterValue("The message attribute '%s' must contain non-empty message attribute type.", name)
		default:
			return errInvalidParameterValue("The type of message (%s) attribute '%s' is invalid. You must use "+
				"only the following supported type prefixes: Binary, Number, String.", kind, name)
		}
		if system && base != "String" {
			return errInvalidParameterValue("Message system attribute '%s' must be of type String.", name)
		}
	}
	return nil
}

// messageSize is what counts against MaximumMessageSize.
func messageSize(in sendRequest) int {
	n := len(deref(in.MessageBody))
	for name, v := range in.MessageAttributes {
		n += len(name) + len(v.DataType) + len(deref(v.StringValue)) + len(v.BinaryValue)
	}
	return n
}

// enqueueLocked validates and stores one message on q.
func (s *Service) enqueueLocked(q *queue, in sendRequest, now time.Time) (sendResult, error) {
	if in.MessageBody == nil || *in.MessageBody == "" {
		return sendResult{}, errMissingParameter("MessageBody")
	}
	body := *in.MessageBody
	if !validBody(body) {
		return sendResult{}, errInvalidMessageContents()
	}
	delay := q.intAttr("DelaySeconds")
	if in.DelaySeconds != nil {
		delay = *in.DelaySeconds
		if delay < 0 || delay > 900 {
			return sendResult{}, errInvalidParameterValue("Value %d for parameter DelaySeconds is invalid. "+
				"Reason: DelaySeconds must be >= 0 and <= 900.", delay)
		}
	}
	if err := validateAttributes(in.MessageAttributes, false); err != nil {
		return sendResult{}, err
	}
	if err := validateAttributes(in.MessageSystemAttributes, true); err != nil {
		return sendResult{}, err
	}
	if limit := q.intAttr("MaximumMessageSize"); messageSize(in) > limit {
		return sendResult{}, errInvalidParameterValue("One or more parameters are invalid. "+
			"Reason: Message must be shorter than %d bytes.", limit)
	}
	m := &message{
		id:          uuid.NewString(),
		body:        body,
		md5Body:     md5Hex(body),
		attrs:       maps.Clone(in.MessageAttributes),
		md5Attrs:    md5OfAttributes(in.MessageAttributes),
		sysAttrs:    maps.Clone(in.MessageSystemAttributes),
		md5SysAttrs: md5OfAttributes(in.MessageSystemAttributes),
		sent:        now,
		visibleAt:   now.Add(time.Duration(delay) * time.Second),
	}
	q.add(m)
	q.signal()
	return sendResult{
		Id:                           in.Id,
		MessageId:                    m.id,
		MD5OfMessageBody:             m.md5Body,
		MD5OfMessageAttributes:       m.md5Attrs,
		MD5OfMessageSystemAttributes: m.md5SysAttrs,
	}, nil
}

func (s *Service) sendMessage(_ *http.Request, body []byte) (any, error) {
	in, err := decode[sendRequest](body)
	if err != nil {
		return nil, err
	}
	in.Id = ""
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueByURLLocked(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	return s.enqueueLocked(q, in, s.now())
}

var batchIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// checkBatchIDs applies the request-level checks of the batch operations.
func checkBatchIDs(ids []string) error {
	if len(ids) == 0 {
		return errEmptyBatch()
	}
	if len(ids) > 10 {
		return errTooManyEntries(len(ids))
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if !batchIDRE.MatchString(id) {
			return errInvalidBatchEntryID(id)
		}
		if seen[id] {
			return errIDsNotDistinct(id)
		}
		seen[id] = true
	}
	return nil
}

// failure turns an entry's error into a BatchResultErrorEntry.
func failure(id string, err error) batchError {
	e := asAPIError(err)
	return batchError{Id: id, SenderFault: e.fault == "Sender", Code: e.code(), Message: e.message}
}

func (s *Service) sendMessageBatch(_ *http.Request, body []byte) (any, error) {
	in, err := decode[sendBatchRequest](body)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueByURLLocked(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(in.Entries))
	total := 0
	for i, e := range in.Entries {
		ids[i] = e.Id
		total += messageSize(e)
	}
	if err := checkBatchIDs(ids); err != nil {
		return nil, err
	}
	if total > maxBatchBytes {
		return nil, errBatchTooLong(total, maxBatchBytes)
	}
	out := sendBatchResponse{Successful: []sendResult{}, Failed: []batchError{}}
	now := s.now()
	for _, e := range in.Entries {
		res, err := s.enqueueLocked(q, e, now)
		if err != nil {
			out.Failed = append(out.Failed, failure(e.Id, err))
			continue
		}
		out.Successful = append(out.Successful, res)
	}
	return out, nil
}

// deleteLocked deletes the message a receipt handle designates; a handle
// of a message that is already gone succeeds, as in SQS.
func deleteLocked(q *queue, handle string) error {
	m, err := q.messageForHandle(handle)
	if err != nil || m == nil {
		return err
	}
	q.remove(m)
	return nil
}

func (s *Service) deleteMessage(_ *http.Request, body []byte) (any, error) {
	in, err := decode[handleRequest](body)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueByURLLocked(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	return nil, deleteLocked(q, in.ReceiptHandle)
}

// handleBatch runs fn on each entry of a DeleteMessageBatch or
// ChangeMessageVisibilityBatch request.
func (s *Service) handleBatch(body []byte, fn func(q *queue, e handleRequest, now time.Time) error) (any, error) {
	in, err := decode[handleBatchRequest](body)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueByURLLocked(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(in.Entries))
	for i, e := range in.Entries {
		ids[i] = e.Id
	}
	if err := checkBatchIDs(ids); err != nil {
		return nil, err
	}
	out := handleBatchResponse{Successful: []idResult{}, Failed: []batchError{}}
	now := s.now()
	for _, e := range in.Entries {
		if err := fn(q, e, now); err != nil {
			out.Failed = append(out.Failed, failure(e.Id, err))
			continue
		}
		out.Successful = append(out.Successful, idResult{Id: e.Id})
	}
	return out, nil
}

func (s *Service) deleteMessageBatch(_ *http.Request, body []byte) (any, error) {
	return s.handleBatch(body, func(q *queue, e handleRequest, _ time.Time) error {
		return deleteLocked(q, e.ReceiptHandle)
	})
}

// changeVisibilityLocked sets the visibility timeout of an in-flight
// message, counted from now.
func changeVisibilityLocked(q *queue, handle string, timeout *int, now time.Time) error {
	secs := 0
	if timeout != nil {
		secs = *timeout
	}
	if secs < 0 || secs > 43200 {
		return errInvalidParameterValue("Value %d for parameter VisibilityTimeout is invalid. "+
			"Reason: Must be between 0 and 43200, if provided.", secs)
	}
	m, err := q.messageForHandle(handle)
	if err != nil {
		return err
	}
	if m == nil {
		return errInvalidParameterValue("Value %s for parameter ReceiptHandle is invalid. Reason: Message "+
			"does not exist or is not available for visibility timeout change.", handle)
	}
	if !m.inflight(now) {
		return errMessageNotInflight()
	}
	m.visibleAt = now.Add(time.Duration(secs) * time.Second)
	q.signal()
	return nil
}

func (s *Service) changeMessageVisibility(_ *http.Request, body []byte) (any, error) {
	in, err := decode[handleRequest](body)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, err := s.queueByURLLocked(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	return nil, changeVisibilityLocked(q, in.ReceiptHandle, in.VisibilityTimeout, s.now())
}

func (s *Service) changeMessageVisibilityBatch(_ *http.Request, body []byte) (any, error) {
	return s.handleBatch(body, func(q *queue, e handleRequest, now time.Time) error {
		return changeVisibilityLocked(q, e.ReceiptHandle, e.VisibilityTimeout, now)
	})
}
