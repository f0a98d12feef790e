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
	if f, ok := lockPort(filepath.Join(os.TempDir(), "vigil-ports"), p); ok {
		_ = f.Close()
		t.Fatalf("port %d could be locked a second time", p)
	}
}
