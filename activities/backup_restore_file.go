package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Restore to a file: the SDK's download manager fetches ranges in
// parallel (as a raw download does) and writes each at its offset of a
// temporary file next to the destination; a hasher follows the file's
// contiguous prefix as it grows, reading it back from the page cache, so
// the SHA-256 check overlaps the download instead of costing a second
// pass. Verified, synced, then renamed into place; a mismatch leaves the
// destination as it was.
const (
	restorePartSize    = 8 << 20
	restoreConcurrency = 4
	restoreHashChunk   = 1 << 20
)

// With full, the synced file is read again from disk (its pages dropped
// from the cache first, where the kernel allows) and its SHA-256 checked
// once more before the rename.
func (a *Backup) restoreFileRanged(ctx context.Context, obj ObjectRef, dest string, progress *progressBeat, full bool) error {
	if err := localDestination(dest); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".vigil-restore-*")
	if err != nil {
		return fileError("destination", dest, err)
	}
	defer os.Remove(tmp.Name()) // gone already after the rename
	defer tmp.Close()
	w := newPrefixHasher(tmp, progress)
	hashed := make(chan error, 1)
	go func() { hashed <- w.run() }()
	d := manager.NewDownloader(a.S3, func(d *manager.Downloader) {
		d.PartSize, d.Concurrency = restorePartSize, restoreConcurrency
	})
	n, err := d.Download(ctx, w, &s3.GetObjectInput{Bucket: aws.String(obj.Bucket), Key: aws.String(obj.Key)})
	w.close()
	herr := <-hashed
	if err != nil {
		return Classify("S3 GetObject s3://"+obj.Bucket+"/"+obj.Key, err)
	}
	if herr != nil {
		return fileError("destination", tmp.Name(), herr)
	}
	if n != obj.Size {
		return fmt.Errorf("s3://%s/%s: read %d bytes, want %d", obj.Bucket, obj.Key, n, obj.Size)
	}
	if got := w.sum(); got != obj.SHA256 {
		return mismatch(obj, got)
	}
	if full {
		if err := tmp.Sync(); err != nil {
			return fileError("destination", tmp.Name(), err)
		}
		got, err := rereadSHA256(ctx, tmp)
		if err != nil {
			return fileError("destination", tmp.Name(), err)
		}
		if got != obj.SHA256 {
			return mismatch(obj, got)
		}
	}
	return commitFile(tmp, dest)
}

// commitFile syncs tmp and renames it onto dest, keeping dest's mode.
func commitFile(tmp *os.File, dest string) error {
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// Created 0600 while unverified; published with publishedMode.
	if err := os.Chmod(tmp.Name(), publishedMode(dest)); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dest)
}

// prefixHasher is the download's io.WriterAt: it writes to the file and
// tracks the written intervals, so run can hash the contiguous prefix.
type prefixHasher struct {
	f        *os.File
	progress *progressBeat
	h        hash.Hash

	mu       sync.Mutex
	cond     *sync.Cond
	frontier int64           // bytes [0, frontier) are written
	byStart  map[int64]int64 // written intervals past the frontier: start → end
	byEnd    map[int64]int64 // and end → start
	closed   bool
	werr     error
}

func newPrefixHasher(f *os.File, progress *progressBeat) *prefixHasher {
	p := &prefixHasher{f: f, progress: progress, h: sha256.New(), byStart: map[int64]int64{}, byEnd: map[int64]int64{}}
	p.cond = sync.NewCond(&p.mu)
	return p
}

// WriteAt writes b at off and records the interval.
func (p *prefixHasher) WriteAt(b []byte, off int64) (int, error) {
	n, err := p.f.WriteAt(b, off)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.werr = err
		p.cond.Broadcast()
		return n, err
	}
	s, e := off, off+int64(n)
	if ps, ok := p.byEnd[s]; ok { // joins the interval before it
		delete(p.byEnd, s)
		delete(p.byStart, ps)
		s = ps
	}
	if ne, ok := p.byStart[e]; ok { // and the one after it
		delete(p.byStart, e)
		delete(p.byEnd, ne)
		e = ne
	}
	if s <= p.frontier {
		p.frontier = max(p.frontier, e)
		p.cond.Broadcast()
	} else {
		p.byStart[s], p.byEnd[e] = e, s
	}
	return n, nil
}

// close tells run that no more writes come.
func (p *prefixHasher) close() {
	p.mu.Lock()
	p.closed = true
	p.cond.Broadcast()
	p.mu.Unlock()
}

// run hashes the file's prefix as it grows, until close.
func (p *prefixHasher) run() error {
	buf := make([]byte, restoreHashChunk)
	var hashed int64
	for {
		p.mu.Lock()
		for p.frontier == hashed && !p.closed && p.werr == nil {
			p.cond.Wait()
		}
		frontier, closed, werr := p.frontier, p.closed, p.werr
		p.mu.Unlock()
		if werr != nil {
			return werr
		}
		for hashed < frontier {
			n, err := p.f.ReadAt(buf[:min(int64(len(buf)), frontier-hashed)], hashed)
			p.h.Write(buf[:n])
			hashed += int64(n)
			p.progress.add(int64(n))
			if err != nil && err != io.EOF {
				return err
			}
			if n == 0 {
				return io.ErrUnexpectedEOF
			}
		}
		if closed && hashed == frontier {
			return nil
		}
	}
}

// sum is the hex SHA-256 of the hashed prefix (after run returned).
func (p *prefixHasher) sum() string { return hex.EncodeToString(p.h.Sum(nil)) }
