package devserver

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
)

// Ports handed out by FreePort come from below the kernel's ephemeral range
// (ip_local_port_range starts at 32768 on Linux and 49152 on macOS), so the
// source port of an outgoing connection can never take one between FreePort
// and the server binding it. Several test processes pick ports at the same
// time (go test runs packages in parallel); a per-port lock file, held with
// flock for the life of the process, keeps them apart. The embedded Temporal
// server binds its ports itself and, with a non-exiting logger, meets a taken
// port as a nil listener and a panic, so a collision must not happen.
const (
	portRangeLow  = 20000
	portRangeHigh = 32000
	portTries     = 200
)

var (
	portMu    sync.Mutex
	portsMine = map[int]*os.File{}
)

// FreePort returns a TCP port on 127.0.0.1 that is free now and that no other
// caller of FreePort, in this process or another, will be given while this
// process lives. The port is not bound: use it at once.
func FreePort() (int, error) {
	portMu.Lock()
	defer portMu.Unlock()
	dir := filepath.Join(os.TempDir(), "vigil-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return 0, fmt.Errorf("port lock dir: %w", err)
	}
	for range portTries {
		p := portRangeLow + rand.IntN(portRangeHigh-portRangeLow)
		if _, mine := portsMine[p]; mine {
			continue
		}
		lock, ok := lockPort(dir, p)
		if !ok {
			continue
		}
		if CheckPortFree("127.0.0.1", p) != nil {
			_ = lock.Close()
			continue
		}
		portsMine[p] = lock // held (and the flock with it) until the process exits
		return p, nil
	}
	return 0, errors.New("no free port found in 127.0.0.1:20000-32000")
}

// lockPort takes the per-port lock without waiting.
func lockPort(dir string, port int) (*os.File, bool) {
	f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(port)+".lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		return nil, false
	}
	return f, true
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
