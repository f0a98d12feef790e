package tclient_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/vigilops/vigil/internal/cli"
	"github.com/vigilops/vigil/internal/tclient"
)

// selfSigned makes a certificate for 127.0.0.1 that is its own CA.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "vigil test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// A server that requires a client certificate the client does not send
// is reported as a TLS failure (exit 4), not as "does not speak gRPC".
func TestDialReportsRefusedClientCertificate(t *testing.T) {
	cert, pool := selfSigned(t)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, MinVersion: tls.VersionTLS13})))
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	co := client.Options{HostPort: lis.Addr().String(), Namespace: "default",
		ConnectionOptions: client.ConnectionOptions{TLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS13}}}
	_, err = tclient.DialOptions(context.Background(), co, 10*time.Second)
	var de *tclient.DialError
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T) is not a *DialError", err, err)
	}
	if msg := err.Error(); !strings.Contains(msg, "TLS handshake failed (the server refused the client certificate") || strings.Contains(msg, "gRPC") {
		t.Errorf("message = %q, want a refused client certificate", msg)
	}
	if code := cli.ExitCode(err); code != cli.ExitUnreachable {
		t.Errorf("exit code %d, want %d", code, cli.ExitUnreachable)
	}

	// An untrusted server certificate is a TLS failure too.
	co.ConnectionOptions.TLS = &tls.Config{MinVersion: tls.VersionTLS13}
	_, err = tclient.DialOptions(context.Background(), co, 10*time.Second)
	if msg := err.Error(); err == nil || !strings.Contains(msg, "TLS handshake failed (the server's certificate") {
		t.Errorf("untrusted server: %v", err)
	}
}
