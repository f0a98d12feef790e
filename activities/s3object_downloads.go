package activities

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// DownloadsDirName is the directory, under the worker's temp directory,
// that holds the exec processor's local copies: one recognisable place per
// host that the worker may clean.
const DownloadsDirName = "vigil-s3obj-downloads"

// DefaultDownloadMaxAge is how old a local copy must be before a worker
// removes it as orphaned (a worker killed mid-download or mid-command, a
// run that ended without its clean-up). RunObjectCommand refreshes its
// copy's modification time when it starts, so the age must exceed the
// longest exec timeout of any pipeline plus the retry backoff between
// attempts; a day does for the documented defaults (10 min timeout).
const DefaultDownloadMaxAge = 24 * time.Hour

// downloadCleanInterval is how often DownloadObject also removes orphans
// (besides the clean-up when the worker starts).
const downloadCleanInterval = time.Hour

// downloads tracks the local copies of one worker process: those its
// running activities use, and when it last removed orphans.
type downloads struct {
	mu        sync.Mutex
	inUse     map[string]int
	lastClean time.Time
}

// use marks path as used by a running activity until the returned func.
func (d *downloads) use(path string) func() {
	d.mu.Lock()
	if d.inUse == nil {
		d.inUse = map[string]int{}
	}
	d.inUse[path]++
	d.mu.Unlock()
	return func() {
		d.mu.Lock()
		if d.inUse[path]--; d.inUse[path] <= 0 {
			delete(d.inUse, path)
		}
		d.mu.Unlock()
	}
}

func (d *downloads) used(path string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.inUse[path] > 0
}

// DownloadsDir is where this worker's exec processor copies go.
func (a *S3Object) DownloadsDir() string {
	base := a.TempDir
	if base == "" {
		base = os.TempDir()
	}
	return filepath.Join(base, DownloadsDirName)
}

func (a *S3Object) maxAge() time.Duration {
	if a.DownloadMaxAge > 0 {
		return a.DownloadMaxAge
	}
	return DefaultDownloadMaxAge
}

// CleanDownloads removes orphaned local copies: files of the downloads
// directory named like a download, used by no running activity of this
// process, and not modified for longer than the maximum age (another
// worker process on the host refreshes the copies it uses, see
// DefaultDownloadMaxAge), and a copy's identity token once the copy is
// gone. It returns the paths removed. The worker calls it
// when it starts, and DownloadObject at most once an hour.
func (a *S3Object) CleanDownloads(now time.Time) ([]string, error) {
	a.downloads.mu.Lock()
	a.downloads.lastClean = now
	a.downloads.mu.Unlock()
	dir := a.DownloadsDir()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), tempPrefix) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if base, ok := strings.CutSuffix(path, IdentitySuffix); ok {
			// A copy's identity token goes after the copy itself.
			if _, err := os.Stat(base); !errors.Is(err, fs.ErrNotExist) {
				continue
			}
		}
		info, err := e.Info()
		if err != nil || now.Sub(info.ModTime()) <= a.maxAge() || a.downloads.used(path) {
			continue
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, path)
	}
	return removed, errors.Join(errs...)
}

// cleanDownloadsNow runs CleanDownloads when the last run is older than
// downloadCleanInterval, logging what it removed.
func (a *S3Object) cleanDownloadsNow(log func(msg string, kv ...any)) {
	a.downloads.mu.Lock()
	due := time.Since(a.downloads.lastClean) > downloadCleanInterval
	a.downloads.mu.Unlock()
	if !due {
		return
	}
	removed, err := a.CleanDownloads(time.Now())
	if len(removed) > 0 || err != nil {
		log("orphaned exec processor copies removed", "dir", a.DownloadsDir(), "count", len(removed), "error", err)
	}
}

// StartupCleanDownloads is the worker's clean-up when it starts.
func (a *S3Object) StartupCleanDownloads(logger *slog.Logger) {
	if logger == nil {
		logger = slog.Default()
	}
	a.cleanDownloadsNow(logger.Info)
}
