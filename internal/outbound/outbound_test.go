package outbound

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
)

func TestRefused(t *testing.T) {
	for s, want := range map[string]bool{
		"169.254.169.254": true, "169.254.0.1": true, "fe80::1": true, "fd00:ec2::254": true, "::ffff:169.254.169.254": true,
		"127.0.0.1": false, "10.0.0.1": false, "::1": false, "fd00:ec2::253": false, "8.8.8.8": false,
	} {
		if got := Refused(netip.MustParseAddr(s)); got != want {
			t.Errorf("Refused(%s) = %v, want %v", s, got, want)
		}
	}
}

// TestClientRefusesMetadataAddress dials the metadata address through a
// name that resolves to it (as DNS rebinding would): the dial is refused
// before any packet is sent, as the non-retryable ErrTypeRefused.
func TestClientRefusesMetadataAddress(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tr := Transport(false)
	inner := tr.DialContext
	// A resolver stand-in: "metadata.test" is 169.254.169.254.
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return inner(ctx, network, strings.Replace(addr, "metadata.test", "169.254.169.254", 1))
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://metadata.test/latest/meta-data/", nil)
	_, err := (&http.Client{Transport: tr}).Do(req)
	var re *RefusedError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want a RefusedError", err)
	}
	var ae *temporal.ApplicationError
	if c := Classify("http job: ", err); !errors.As(c, &ae) || ae.Type() != ErrTypeRefused || !ae.NonRetryable() || !strings.Contains(c.Error(), AllowFlag) {
		t.Errorf("Classify = %v, want a non-retryable %s naming %s", c, ErrTypeRefused, AllowFlag)
	}
}

func TestClientReachesLoopback(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	resp, err := Client(false, 5*time.Second).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestAllowLinkLocal(t *testing.T) {
	if err := Classify("", errors.New("x")); err.Error() != "x" {
		t.Errorf("Classify changed an unrelated error: %v", err)
	}
	// With the flag, the dialer has no Control: a dial to a link-local
	// address is attempted (and fails or times out), not refused.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := Transport(true).DialContext(ctx, "tcp", "169.254.169.254:80")
	var re *RefusedError
	if errors.As(err, &re) {
		t.Errorf("with %s the dial was refused: %v", AllowFlag, err)
	}
}
