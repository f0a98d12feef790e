package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

// machine is what the figures were measured on.
type machine struct {
	Date, CPU, Go, Server, SDK, Load string
	Cores                            int
	RAMGiB                           float64
	Quick                            bool
	Repeat                           int
	Dir                              string
}

func describeMachine(o options) machine {
	m := machine{Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"), Cores: runtime.NumCPU(), Go: runtime.Version(),
		Quick: o.quick, Repeat: o.repeat, Dir: o.dir}
	if m.Dir == "" {
		m.Dir = os.TempDir()
	}
	m.CPU = procField("/proc/cpuinfo", "model name")
	if kb := procField("/proc/meminfo", "MemTotal"); kb != "" {
		var n float64
		fmt.Sscan(strings.TrimSuffix(kb, " kB"), &n)
		m.RAMGiB = n / (1 << 20)
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.Load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	m.Server, m.SDK = "unknown", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			switch d.Path {
			case "go.temporal.io/server":
				m.Server = d.Version
			case "go.temporal.io/sdk":
				m.SDK = d.Version
			}
		}
	}
	return m
}

// loadNow is the 1-minute load average at the end of the run.
func loadNow() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// procField returns the value of the first "key: value" line of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func (m machine) String() string {
	mode := "full"
	if m.Quick {
		mode = "quick"
	}
	return fmt.Sprintf("%s · %d cores (%s) · %.1f GiB RAM · %s · Temporal server %s (embedded, in memory), SDK %s · load average at start %s · %s mode, %d rounds · scratch %s",
		m.Date, m.Cores, m.CPU, m.RAMGiB, m.Go, m.Server, m.SDK, m.Load, mode, m.Repeat, m.Dir)
}
