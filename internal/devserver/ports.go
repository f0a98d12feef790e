package devserver

import (
	"fmt"
	"net"
	"strconv"
)

// FreePort asks the kernel for a free TCP port on 127.0.0.1. The port is not
// reserved: use it at once.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// CheckPortFree fails with a clear message when host:port cannot be bound.
func CheckPortFree(host string, port int) error {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("port %s is not free (another vigil or Temporal dev server running?): %w", addr, err)
	}
	return l.Close()
}
