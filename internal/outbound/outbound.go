// Package outbound builds the HTTP clients vigil's activities send
// requests with (http jobs, http backup sources and restore targets, http
// processors, Slack webhooks). Their dialer refuses link-local and cloud
// metadata addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254): a job or
// pipeline names its own URL, and must not reach the worker's instance
// metadata (and its credentials). The check runs on the address actually
// dialed, after name resolution, so a name resolving to such an address
// (DNS rebinding included) is refused too. A worker started with
// --allow-link-local-http lifts the refusal.
//
// A request sent through a proxy (HTTP_PROXY, HTTPS_PROXY) dials the
// proxy: the proxy then decides what it reaches.
package outbound

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"go.temporal.io/sdk/temporal"
)

// ErrTypeRefused is the application error type of a request to a refused
// address.
const ErrTypeRefused = "LinkLocalAddressRefused"

// AllowFlag is the worker flag that lifts the refusal.
const AllowFlag = "--allow-link-local-http"

// refused lists the refused networks.
var refused = []netip.Prefix{
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("fd00:ec2::254/128"),
}

// Refused reports whether requests to addr are refused: link-local
// (169.254.0.0/16, fe80::/10, IPv4-mapped forms included) or a cloud
// metadata address (fd00:ec2::254).
func Refused(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range refused {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// RefusedError is a dial the policy refused.
type RefusedError struct {
	// Addr is the address dialed (ip:port).
	Addr string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("connecting to %s is refused: link-local and cloud metadata addresses are not reachable from vigil's requests unless the worker runs with %s", e.Addr, AllowFlag)
}

// control is the dialer's Control func: it sees the resolved address.
func control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &RefusedError{Addr: address}
	}
	if Refused(ap.Addr()) {
		return &RefusedError{Addr: address}
	}
	return nil
}

// Transport is a clone of http.DefaultTransport whose dialer refuses the
// addresses Refused names, unless allowLinkLocal.
func Transport(allowLinkLocal bool) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	if !allowLinkLocal {
		d.Control = control
	}
	t.DialContext = d.DialContext
	return t
}

// defaultTransport is shared by the default clients, so connections are
// pooled across activities.
var defaultTransport = Transport(false)

// Client returns a client with the given overall timeout (0: none) whose
// transport refuses link-local addresses unless allowLinkLocal.
func Client(allowLinkLocal bool, timeout time.Duration) *http.Client {
	t := defaultTransport
	if allowLinkLocal {
		t = Transport(true)
	}
	return &http.Client{Transport: t, Timeout: timeout}
}

// Default is the refusing client without overall timeout: what an
// activity uses when it is given no client.
func Default() *http.Client { return defaultClient }

var defaultClient = &http.Client{Transport: defaultTransport}

// Classify turns a refused dial in err into the non-retryable
// ErrTypeRefused error (message prefixed with what); any other error is
// returned as it is.
func Classify(what string, err error) error {
	var re *RefusedError
	if errors.As(err, &re) {
		return temporal.NewNonRetryableApplicationError(what+re.Error(), ErrTypeRefused, nil)
	}
	return err
}
