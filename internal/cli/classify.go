package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/aws/smithy-go"
	"go.temporal.io/api/serviceerror"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// notFoundCodes are the AWS API error codes that mean "what you named does
// not exist" (S3, Glacier, SQS, SNS...).
var notFoundCodes = map[string]bool{
	"NotFound": true, "NoSuchBucket": true, "NoSuchKey": true, "NoSuchVersion": true, "NoSuchUpload": true,
	"ResourceNotFoundException": true, "AWS.SimpleQueueService.NonExistentQueue": true,
	"QueueDoesNotExist": true, "NotFoundException": true,
}

// IsNotFound reports whether err says that what was named does not exist:
// Temporal's NotFound and NamespaceNotFound, an AWS API error with a
// not-found code (NoSuchBucket, NoSuchKey, NotFound, ResourceNotFound...),
// a gRPC NotFound status (the Google Cloud clients).
func IsNotFound(err error) bool {
	var nf *serviceerror.NotFound
	var nsf *serviceerror.NamespaceNotFound
	var api smithy.APIError
	switch {
	case errors.As(err, &nf), errors.As(err, &nsf):
		return true
	case errors.As(err, &api):
		return notFoundCodes[api.ErrorCode()]
	}
	return grpcCode(err) == codes.NotFound
}

// IsUnreachable reports whether err says the server or the cloud endpoint
// could not be reached: a dial or DNS failure, a refused connection,
// Temporal's Unavailable, a gRPC Unavailable status, or a TLS failure.
func IsUnreachable(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	var unavailable *serviceerror.Unavailable
	switch {
	case errors.As(err, &dns), errors.As(err, &unavailable), errors.Is(err, syscall.ECONNREFUSED):
		return true
	case errors.As(err, &op) && op.Op == "dial":
		return true
	}
	if _, ok := TLSFailure(err); ok {
		return true
	}
	return grpcCode(err) == codes.Unavailable
}

// grpcCode is the gRPC status code somewhere in err's chain (codes.OK when
// none).
func grpcCode(err error) codes.Code {
	var s interface{ GRPCStatus() *status.Status }
	if errors.As(err, &s) {
		return s.GRPCStatus().Code()
	}
	return codes.OK
}

// TLSFailure reports whether err is a TLS failure and describes it in
// the user's terms: a certificate the client does not trust, a name that
// does not match, a client certificate the server refused, a server that
// does not speak TLS. gRPC flattens errors to text, so its messages are
// recognised by their "tls:" and "x509:" parts.
func TLSFailure(err error) (string, bool) {
	var verify *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	var alert tls.AlertError
	var header tls.RecordHeaderError
	switch {
	case errors.As(err, &host):
		return "the server's certificate is not valid for " + host.Host, true
	case errors.As(err, &unknown):
		return "the server's certificate is signed by an unknown authority (set the CA: TEMPORAL_TLS_SERVER_CA_CERT or AWS_CA_BUNDLE)", true
	case errors.As(err, &invalid):
		return "the server's certificate is invalid: " + invalid.Error(), true
	case errors.As(err, &verify):
		return "the server's certificate could not be verified: " + verify.Err.Error(), true
	case errors.As(err, &alert):
		return tlsAlert(alert.Error()), true
	case errors.As(err, &header):
		return "the server does not speak TLS", true
	}
	if err == nil {
		return "", false
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "remote error: tls:"):
		return tlsAlert(msg[strings.LastIndex(msg, "remote error: tls:"):]), true
	case strings.Contains(msg, "x509:"):
		return "the server's certificate could not be verified: " + strings.Trim(msg[strings.LastIndex(msg, "x509:"):], `" `), true
	case strings.Contains(msg, "tls: first record does not look like a TLS handshake"):
		return "the server does not speak TLS", true
	}
	return "", false
}

// tlsAlert explains a TLS alert the server sent.
func tlsAlert(msg string) string {
	msg = strings.Trim(msg, `" `)
	for _, refused := range []string{"certificate required", "bad certificate", "unknown certificate authority", "certificate unknown", "expired certificate", "revoked certificate"} {
		if strings.Contains(msg, refused) {
			return "the server refused the client certificate (" + msg + ")"
		}
	}
	return "the server ended the handshake (" + msg + ")"
}

// Message renders err as one line in the user's terms: what failed, on
// what, why. Where err's text carries an SDK's wrapped chain (an AWS
// operation error with its retries, HTTP and socket layers), that part is
// replaced by the service, the operation and the cause alone; the full
// chain is Details'.
func Message(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	var op *smithy.OperationError
	if errors.As(err, &op) {
		short, name := cause(op.Err), op.ServiceID+" "+op.OperationName
		if i := strings.Index(msg, op.Error()); i >= 0 && !strings.Contains(msg[:i], name) {
			short = name + ": " + short // unless a wrapper named the operation already
		}
		msg = strings.Replace(msg, op.Error(), short, 1)
	}
	var st interface{ GRPCStatus() *status.Status }
	if errors.As(err, &st) && st.GRPCStatus().Code() == codes.Unavailable {
		// "rpc error: code = Unavailable desc = connection error: desc =
		// \"transport: Error while dialing: dial tcp ...\"" → its last part.
		if e, ok := st.(error); ok {
			inner := e.Error()
			if i := strings.LastIndex(inner, "dial"); i >= 0 {
				msg = strings.Replace(msg, inner, "cannot connect ("+strings.Trim(inner[i:], `" `)+")", 1)
			}
		}
	}
	return oneLine(msg)
}

// cause is the short reason of an SDK error: the API's code and message,
// the connection failure, the TLS failure, or the innermost message.
func cause(err error) string {
	var api smithy.APIError
	var dns *net.DNSError
	var op *net.OpError
	if why, ok := TLSFailure(err); ok {
		return "TLS handshake failed: " + why
	}
	switch {
	case errors.As(err, &api):
		if m := api.ErrorMessage(); m != "" {
			return api.ErrorCode() + ": " + m
		}
		return api.ErrorCode()
	case errors.As(err, &dns):
		return "host name " + dns.Name + " does not resolve"
	case errors.As(err, &op) && op.Op == "dial":
		return fmt.Sprintf("cannot connect to %v (%v)", op.Addr, op.Err)
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer in time"
	}
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

// Details lists err's chain, outermost first, each as "Type: message", for
// -o json's "details" and --log-level debug. A workflow failure's chain is
// the one WithDetails attached.
func Details(err error) []string {
	var d *detailedError
	if errors.As(err, &d) {
		return d.details
	}
	var out []string
	for e := err; e != nil; e = errors.Unwrap(e) {
		if _, ok := e.(*ExitError); ok {
			continue
		}
		out = append(out, fmt.Sprintf("%T: %s", e, oneLine(e.Error())))
	}
	return out
}

// detailedError carries a chain to show in Details (a workflow failure's
// causes, which are not Go errors).
type detailedError struct {
	err     error
	details []string
}

func (e *detailedError) Error() string { return e.err.Error() }
func (e *detailedError) Unwrap() error { return e.err }

// WithDetails attaches details (Details shows them) to err.
func WithDetails(err error, details []string) error {
	if err == nil || len(details) == 0 {
		return err
	}
	return &detailedError{err: err, details: details}
}
