package devserver

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestFreePortGivesDistinctBindablePortsBelowTheEphemeralRange(t *testing.T) {
	seen := map[int]bool{}
	for range 40 {
		p, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		if p < portRangeLow || p >= portRangeHigh {
			t.Fatalf("port %d outside %d-%d", p, portRangeLow, portRangeHigh)
		}
		if seen[p] {
			t.Fatalf("port %d handed out twice", p)
		}
		seen[p] = true
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			t.Fatalf("port %d not bindable: %v", p, err)
		}
		_ = l.Close()
	}
}

// A port handed out here is locked against other processes: a second open
// file description (what another process would hold) cannot take its lock.
func TestFreePortLocksThePortAgainstOtherProcesses(t *testing.T) {
	p, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := lockPort(mustLockDir(t), p); ok {
		_ = f.Close()
		t.Fatalf("port %d could be locked a second time", p)
	}
}

// The port-lock directory is the user's own, 0700, and lock files are 0600.
func TestPortLocksArePrivate(t *testing.T) {
	p, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := portLockDir()
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 || !fi.IsDir() {
		t.Fatalf("lock dir %s: %v %v, want a 0700 directory", dir, fi.Mode(), err)
	}
	if fi, err := os.Stat(filepath.Join(dir, strconv.Itoa(p)+".lock")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("lock file of port %d: %v %v, want 0600", p, fi.Mode(), err)
	}
}

// A lock directory this user owns but others may write is tightened before
// use; a symlink in its place is refused.
func TestPrivateDirTightensOrRefuses(t *testing.T) {
	base := t.TempDir()
	open := filepath.Join(base, "open")
	if err := os.Mkdir(open, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil { // past the umask
		t.Fatal(err)
	}
	if err := privateDir(open); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(open); fi.Mode().Perm() != 0o700 {
		t.Fatalf("world-writable lock dir left %v", fi.Mode().Perm())
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(open, link); err != nil {
		t.Fatal(err)
	}
	if err := privateDir(link); err == nil {
		t.Fatal("a symlink was accepted as the lock dir")
	}
}

func mustLockDir(t *testing.T) string {
	t.Helper()
	dir, err := portLockDir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}
