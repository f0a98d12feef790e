package sqsemu

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

type attrKind int

const (
	kindInt attrKind = iota
	kindJSON
	kindString
	kindBool
	kindRedrive
)

// attrSpec describes a settable queue attribute.
type attrSpec struct {
	kind     attrKind
	def      string // shown by GetQueueAttributes when unset; "" = hidden
	min, max int    // bounds of kindInt
}

// queueAttrSpecs lists the attributes a standard queue accepts, with the
// defaults and bounds of real SQS.
var queueAttrSpecs = map[string]attrSpec{
	"DelaySeconds":                  {kind: kindInt, def: "0", min: 0, max: 900},
	"MaximumMessageSize":            {kind: kindInt, def: "1048576", min: 1024, max: 1048576},
	"MessageRetentionPeriod":        {kind: kindInt, def: "345600", min: 60, max: 1209600},
	"ReceiveMessageWaitTimeSeconds": {kind: kindInt, def: "0", min: 0, max: 20},
	"VisibilityTimeout":             {kind: kindInt, def: "30", min: 0, max: 43200},
	"KmsDataKeyReusePeriodSeconds":  {kind: kindInt, min: 60, max: 86400},
	"Policy":                        {kind: kindJSON},
	"RedriveAllowPolicy":            {kind: kindJSON},
	"RedrivePolicy":                 {kind: kindRedrive},
	"KmsMasterKeyId":                {kind: kindString},
	"SqsManagedSseEnabled":          {kind: kindBool, def: "false"},
}

// computedAttrs are read-only attributes, in the order "All" lists them.
var computedAttrs = []string{
	"QueueArn",
	"ApproximateNumberOfMessages",
	"ApproximateNumberOfMessagesNotVisible",
	"ApproximateNumberOfMessagesDelayed",
	"CreatedTimestamp",
	"LastModifiedTimestamp",
}

// fifoAttrs are valid attribute names that only FIFO queues have.
var fifoAttrs = map[string]bool{
	"FifoQueue": true, "ContentBasedDeduplication": true, "DeduplicationScope": true, "FifoThroughputLimit": true,
}

// redrivePolicy is a parsed RedrivePolicy.
type redrivePolicy struct {
	DeadLetterTargetArn string `json:"deadLetterTargetArn"`
	MaxReceiveCount     int    `json:"maxReceiveCount"`
}

// parseRedrive parses a RedrivePolicy; maxReceiveCount may be a number or
// a numeric string, as SQS accepts both.
func parseRedrive(v string) (*redrivePolicy, error) {
	var raw struct {
		DeadLetterTargetArn string          `json:"deadLetterTargetArn"`
		MaxReceiveCount     json.RawMessage `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(v), &raw); err != nil {
		return nil, errInvalidParameterValue("Value %s for parameter RedrivePolicy is invalid. Reason: Invalid JSON.", v)
	}
	n, err := strconv.Atoi(strings.Trim(string(raw.MaxReceiveCount), `"`))
	if err != nil || n < 1 || n > 1000 {
		return nil, errInvalidParameterValue("Value %s for parameter RedrivePolicy is invalid. "+
			"Reason: Invalid value for maxReceiveCount: %s, valid values are from 1 to 1000 both inclusive.",
			v, raw.MaxReceiveCount)
	}
	if raw.DeadLetterTargetArn == "" {
		return nil, errInvalidParameterValue("Value %s for parameter RedrivePolicy is invalid. "+
			"Reason: Redrive policy does not contain mandatory attribute: deadLetterTargetArn.", v)
	}
	return &redrivePolicy{DeadLetterTargetArn: raw.DeadLetterTargetArn, MaxReceiveCount: n}, nil
}

// normalizeAttrsLocked validates attributes for CreateQueue or
// SetQueueAttributes and returns them in canonical form ("" removes an
// optional attribute).
func (s *Service) normalizeAttrsLocked(in map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(in))
	for name, v := range in {
		spec, ok := queueAttrSpecs[name]
		if !ok {
			if name == "FifoQueue" && strings.EqualFold(v, "false") {
				continue
			}
			if name == "FifoQueue" {
				return nil, errUnsupportedOperation("FIFO queues are not supported by the local SQS emulator.")
			}
			return nil, errInvalidAttributeName(name)
		}
		switch spec.kind {
		case kindInt:
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < spec.min || n > spec.max {
				return nil, errInvalidAttributeValue(name, v,
					"must be an integer from "+strconv.Itoa(spec.min)+" to "+strconv.Itoa(spec.max)+".")
			}
			v = strconv.Itoa(n)
		case kindJSON:
			if v != "" && !json.Valid([]byte(v)) {
				return nil, errInvalidAttributeValue(name, v, "must be a JSON document.")
			}
		case kindBool:
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, errInvalidAttributeValue(name, v, "must be true or false.")
			}
			v = strconv.FormatBool(b)
		case kindRedrive:
			if v == "" {
				break
			}
			p, err := parseRedrive(v)
			if err != nil {
				return nil, err
			}
			if s.queueByARNLocked(p.DeadLetterTargetArn) == nil {
				return nil, errInvalidParameterValue("Value %s for parameter RedrivePolicy is invalid. "+
					"Reason: Dead letter target does not exist.", v)
			}
			b, _ := json.Marshal(p)
			v = string(b)
		}
		out[name] = v
	}
	return out, nil
}

// applyAttrs stores normalised attributes on q.
func (q *queue) applyAttrs(attrs map[string]string, now time.Time) {
	for name, v := range attrs {
		if v == "" {
			delete(q.attrs, name)
		} else {
			q.attrs[name] = v
		}
	}
	q.redrive = nil
	if v, ok := q.attrs["RedrivePolicy"]; ok {
		q.redrive, _ = parseRedrive(v)
	}
	q.modified = now
}

// differingAttr returns the name of an attribute in attrs whose value
// differs from q's current one, or "".
func (q *queue) differingAttr(attrs map[string]string) string {
	for name, v := range attrs {
		cur, ok := q.attrs[name]
		if !ok {
			cur = queueAttrSpecs[name].def
		}
		if cur != v {
			return name
		}
	}
	return ""
}

// attributesLocked answers GetQueueAttributes for names ("All" = every
// attribute the queue has).
func (s *Service) attributesLocked(q *queue, names []string, now time.Time) (map[string]string, error) {
	all := false
	want := map[string]bool{}
	for _, n := range names {
		if n == "All" {
			all = true
			continue
		}
		if _, ok := queueAttrSpecs[n]; !ok && !fifoAttrs[n] && !isComputed(n) {
			return nil, errInvalidAttributeName(n)
		}
		want[n] = true
	}
	out := map[string]string{}
	q.expire(now)
	visible, inflight, delayed := q.counts(now)
	computed := map[string]string{
		"QueueArn":                              q.arn,
		"ApproximateNumberOfMessages":           strconv.Itoa(visible),
		"ApproximateNumberOfMessagesNotVisible": strconv.Itoa(inflight),
		"ApproximateNumberOfMessagesDelayed":    strconv.Itoa(delayed),
		"CreatedTimestamp":                      strconv.FormatInt(q.created.Unix(), 10),
		"LastModifiedTimestamp":                 strconv.FormatInt(q.modified.Unix(), 10),
	}
	for _, n := range computedAttrs {
		if all || want[n] {
			out[n] = computed[n]
		}
	}
	for n, spec := range queueAttrSpecs {
		if !all && !want[n] {
			continue
		}
		if v, ok := q.attrs[n]; ok {
			out[n] = v
		} else if spec.def != "" {
			out[n] = spec.def
		}
	}
	return out, nil
}

func isComputed(name string) bool {
	for _, n := range computedAttrs {
		if n == name {
			return true
		}
	}
	return false
}
