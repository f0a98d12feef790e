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

// The lock directory is the user's own (vigil-ports-<uid> under the temp
// directory): only its owner may create, replace or remove lock files, so
// no other user can plant a symlink or steal a port's lock.
const (
	lockDirMode  os.FileMode = 0o700
	lockFileMode os.FileMode = 0o600
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
	dir, err := portLockDir()
	if err != nil {
		return 0, err
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
	f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(port)+".lock"), os.O_CREATE|os.O_RDWR|syscall.O_NOFOLLOW, lockFileMode)
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

// portLockDir is the user's port-lock directory, created 0700 when missing.
func portLockDir() (string, error) {
	dir := filepath.Join(os.TempDir(), "vigil-ports-"+strconv.Itoa(os.Getuid()))
	if err := privateDir(dir); err != nil {
		return "", fmt.Errorf("port lock dir: %w", err)
	}
	return dir, nil
}

// privateDir makes sure dir is a directory (not a symlink) owned by this
// user that no one else may write: it creates it 0700, tightens the mode
// of one this user owns, and refuses one another user owns.
func privateDir(dir string) error {
	if err := os.Mkdir(dir, lockDirMode); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir():
		return fmt.Errorf("%s is not a directory (%s)", dir, fi.Mode().Type())
	case !ok || int(st.Uid) != os.Getuid():
		return fmt.Errorf("%s belongs to another user; remove it or set TMPDIR", dir)
	case fi.Mode().Perm() != lockDirMode:
		return os.Chmod(dir, lockDirMode)
	}
	return nil
}
