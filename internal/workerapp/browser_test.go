//go:build !nodev

package workerapp

// Headless Chromium for the Web UI test, driven with chromedp rather than
// playwright-go: chromedp is pure Go and talks to the Debian chromium
// binary through its DevTools pipe, while playwright-go needs its node
// driver and its own browser builds downloaded at run time, which this
// offline machine (and CI, on the same kind of machine) cannot do.

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumEnv names the Chromium binary to use; otherwise the usual names
// are looked up in PATH.
const ChromiumEnv = "VIGIL_CHROMIUM"

// ScreenshotDirEnv names a folder for the browser test's screenshots
// (kept after the test); otherwise they go to the test's temporary folder.
const ScreenshotDirEnv = "VIGIL_SCREENSHOT_DIR"

// findChromium returns the browser binary, or skips the test saying why.
func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(ChromiumEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s=%s: %v", ChromiumEnv, p, err)
		}
		return p
	}
	names := []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	t.Skipf("no Chromium found (looked for %s in PATH, and %s is unset); on Debian: apt-get install chromium",
		strings.Join(names, ", "), ChromiumEnv)
	return ""
}

// screenshotDir is where screenshots go, printed in the test log.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(ScreenshotDirEnv)
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("Web UI screenshots in %s", dir)
	return dir
}

// browser is one headless Chromium tab.
type browser struct {
	t    *testing.T
	ctx  context.Context
	dir  string
	wait time.Duration
}

// newBrowser starts Chromium with the flags this machine needs (root,
// offline) and a fresh profile; it is stopped when the test ends.
func newBrowser(t *testing.T, execPath, shots string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1600, 1000),
	)
	// The browser lives as long as the context of its first action, so
	// that one is the tab's own context, bounded as a whole.
	life, cancelLife := context.WithTimeout(context.Background(), 10*time.Minute)
	actx, cancelAlloc := chromedp.NewExecAllocator(life, opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc(); cancelLife() })
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting %s: %v", execPath, err)
	}
	return &browser{t: t, ctx: ctx, dir: shots, wait: 90 * time.Second}
}

// open loads url and waits until the CSS selector ready is visible.
func (b *browser) open(url, ready string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.wait)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(ready))); err != nil {
		b.shot("failed-open")
		b.t.Fatalf("opening %s, waiting for %s: %v", url, ready, err)
	}
}

// waitFor waits until the JavaScript function fn, called with args,
// returns a truthy value, and returns that value as JSON. On timeout it
// fails the test with what describe (a JavaScript expression) shows of the
// page, and keeps a screenshot named after what.
func (b *browser) waitFor(what, fn, describe string, args ...any) []byte {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.wait+5*time.Second)
	defer cancel()
	got, err := chromedp.Run(ctx, chromedp.PollFunction[[]byte](fn,
		chromedp.WithPollingArgs(args...), chromedp.WithPollingInterval(250*time.Millisecond), chromedp.WithPollingTimeout(b.wait)))
	if err != nil {
		b.shot(what + "-failed")
		seen, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](describe))
		b.t.Fatalf("%s: %v\nthe page shows:\n%s", what, err, seen)
	}
	return got
}

// shot saves a full-page PNG screenshot as dir/name.png.
func (b *browser) shot(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	path := filepath.Join(b.dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	b.t.Logf("screenshot %s", path)
	return path
}
