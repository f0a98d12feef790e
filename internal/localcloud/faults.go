package localcloud

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Fault makes a fraction of one service's calls fail the way the real
// service fails under load, and/or slows them down: S3 answers 503
// SlowDown, SQS RequestThrottled (JSON 1.0), SNS Throttling (Query XML),
// Glacier 503 ServiceUnavailableException (REST-JSON), the Slack sink 500.
// The AWS SDKs retry all of these (3 attempts by default).
type Fault struct {
	// Service is the emulator's name: s3, sqs, sns, glacier, slack.
	Service string
	// Operation limits the fault to one API operation (GetJobOutput,
	// ReceiveMessage, Publish, PutObject, RestoreObject...); empty: all.
	Operation string
	// Rate is the fraction of matching calls that fail, 0 to 1.
	Rate float64
	// Latency is added to every matching call (failed or not).
	Latency time.Duration
}

// faults is the live fault set of a cloud (changeable while serving).
type faults struct {
	mu       sync.RWMutex
	list     []Fault
	injected atomic.Int64
}

// FaultsInjected counts the calls failed by faults so far.
func (c *Cloud) FaultsInjected() int64 { return c.faults.injected.Load() }

// SetFaults replaces the fault set while the cloud serves (nil: none).
func (c *Cloud) SetFaults(f []Fault) {
	c.faults.mu.Lock()
	c.faults.list = append([]Fault(nil), f...)
	c.faults.mu.Unlock()
}

// inject applies the faults matching r to service; it reports whether it
// answered the request itself (with an error).
func (f *faults) inject(w http.ResponseWriter, r *http.Request, service string) bool {
	f.mu.RLock()
	list := f.list
	f.mu.RUnlock()
	if len(list) == 0 {
		return false
	}
	op := ""
	for _, ft := range list {
		if !strings.EqualFold(ft.Service, service) {
			continue
		}
		if ft.Operation != "" {
			if op == "" {
				op = operation(r, service)
			}
			if !strings.EqualFold(ft.Operation, op) {
				continue
			}
		}
		if ft.Latency > 0 {
			select {
			case <-time.After(ft.Latency):
			case <-r.Context().Done():
				return true
			}
		}
		if ft.Rate > 0 && rand.Float64() < ft.Rate {
			f.injected.Add(1)
			writeFault(w, service)
			return true
		}
	}
	return false
}

// operation names the API operation of a request to service, as the SDK
// names it (best effort; "" when unknown).
func operation(r *http.Request, service string) string {
	switch service {
	case "sqs":
		if t := r.Header.Get("X-Amz-Target"); t != "" {
			return t[strings.LastIndexByte(t, '.')+1:]
		}
		return formAction(r)
	case "sns":
		return formAction(r)
	case "glacier":
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		last := parts[len(parts)-1]
		switch {
		case last == "output":
			return "GetJobOutput"
		case last == "jobs" && r.Method == http.MethodPost:
			return "InitiateJob"
		case last == "jobs":
			return "ListJobs"
		case len(parts) >= 2 && parts[len(parts)-2] == "jobs":
			return "DescribeJob"
		case last == "archives":
			return "UploadArchive"
		}
		return r.Method + " " + last
	case "s3":
		q := r.URL.Query()
		object := strings.Contains(strings.Trim(r.URL.Path, "/"), "/")
		switch {
		case q.Has("restore"):
			return "RestoreObject"
		case r.Method == http.MethodGet && object:
			return "GetObject"
		case r.Method == http.MethodHead && object:
			return "HeadObject"
		case r.Method == http.MethodPut && object:
			return "PutObject"
		case r.Method == http.MethodDelete && object:
			return "DeleteObject"
		case r.Method == http.MethodGet:
			return "ListObjectsV2"
		}
		return r.Method
	}
	return ""
}

// formAction reads Action from a Query-protocol body and puts the body back.
func formAction(r *http.Request) string {
	if v := r.URL.Query().Get("Action"); v != "" {
		return v
	}
	if r.Body == nil {
		return ""
	}
	body, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return ""
	}
	v, _ := url.ParseQuery(string(body))
	return v.Get("Action")
}

// writeFault answers with the service's own throttling or 5xx error.
func writeFault(w http.ResponseWriter, service string) {
	w.Header().Set("X-Amzn-Requestid", "fault-injected")
	switch service {
	case "s3":
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>fault-injected</RequestId></Error>`)
	case "sqs":
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"__type":"com.amazonaws.sqs#RequestThrottled","message":"Request is throttled."}`)
	case "sns":
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>fault-injected</RequestId></ErrorResponse>`)
	case "glacier":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Errortype", "ServiceUnavailableException")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"code":"ServiceUnavailableException","message":"Service is unavailable. Try again later.","type":"Server"}`)
	default:
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, "internal_error")
	}
}

// ParseFaults reads a fault spec, comma-separated entries of the form
// service[:Operation]=rate[@latency], e.g.
// "s3=0.2,sqs:ReceiveMessage=0.2,glacier=0.2@50ms,slack=0.2".
func ParseFaults(spec string) ([]Fault, error) {
	var out []Fault
	for _, e := range strings.Split(spec, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		target, val, ok := strings.Cut(e, "=")
		if !ok {
			return nil, fmt.Errorf("fault %q: want service[:Operation]=rate[@latency]", e)
		}
		var f Fault
		f.Service, f.Operation, _ = strings.Cut(target, ":")
		switch f.Service {
		case "s3", "sqs", "sns", "glacier", "slack":
		default:
			return nil, fmt.Errorf("fault %q: unknown service %q (s3, sqs, sns, glacier, slack)", e, f.Service)
		}
		rate, lat, hasLat := strings.Cut(val, "@")
		r, err := strconv.ParseFloat(rate, 64)
		if err != nil || r < 0 || r > 1 {
			return nil, fmt.Errorf("fault %q: rate %q is not a number between 0 and 1", e, rate)
		}
		f.Rate = r
		if hasLat {
			d, err := time.ParseDuration(lat)
			if err != nil || d < 0 {
				return nil, fmt.Errorf("fault %q: latency %q is not a duration like 50ms", e, lat)
			}
			f.Latency = d
		}
		out = append(out, f)
	}
	return out, nil
}
