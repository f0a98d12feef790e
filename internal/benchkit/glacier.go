package benchkit

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	gtypes "github.com/aws/aws-sdk-go-v2/service/glacier/types"

	"github.com/vigilops/vigil/internal/awsconf"
)

// OutputWatch records when the Glacier emulator first receives
// GetJobOutput for each job, i.e. when that job's download started. Use
// Wrap as localcloud.Options.Wrap.
type OutputWatch struct {
	mu    sync.Mutex
	first map[string]time.Time
}

// NewOutputWatch returns an empty watch.
func NewOutputWatch() *OutputWatch { return &OutputWatch{first: map[string]time.Time{}} }

// Wrap records first GetJobOutput requests and passes everything to next.
func (o *OutputWatch) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if parts := strings.Split(r.URL.Path, "/"); len(parts) == 7 && parts[6] == "output" {
			o.mu.Lock()
			if _, ok := o.first[parts[5]]; !ok {
				o.first[parts[5]] = time.Now()
			}
			o.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

// First is when the first GetJobOutput for jobID arrived.
func (o *OutputWatch) First(jobID string) (time.Time, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	t, ok := o.first[jobID]
	return t, ok
}

// JobCompleted is the job's CompletionDate as the emulator reports it
// (when it published the notification).
func JobCompleted(ctx context.Context, clients *awsconf.Clients, vault, jobID string) (time.Time, error) {
	d, err := clients.Glacier.DescribeJob(ctx, &glacier.DescribeJobInput{VaultName: aws.String(vault), JobId: aws.String(jobID)})
	if err != nil {
		return time.Time{}, err
	}
	return time.Parse("2006-01-02T15:04:05.000Z", aws.ToString(d.CompletionDate))
}

// RawOptions select what the raw loop does besides writing.
type RawOptions struct {
	// Hash computes the SHA-256 of the bytes on the way.
	Hash bool
	// Sync fsyncs the file at the end (RawResult.Synced).
	Sync bool
}

// RawResult times a raw download from the first GET.
type RawResult struct {
	// Written is when the last byte was written.
	Written time.Duration
	// Synced is when the file was synced (Sync only).
	Synced time.Duration
}

// RawDownload is the script's way of retrieving an archive: initiate a
// job, poll until it completes, then GET 64 MiB ranges one after the other
// into path.
func RawDownload(ctx context.Context, clients *awsconf.Clients, vault, archive string, size int64, path string, opts RawOptions) (RawResult, error) {
	var res RawResult
	job, err := clients.Glacier.InitiateJob(ctx, &glacier.InitiateJobInput{VaultName: aws.String(vault), JobParameters: &gtypes.JobParameters{
		Type: aws.String("archive-retrieval"), ArchiveId: aws.String(archive), Tier: aws.String("Expedited")}})
	if err != nil {
		return res, err
	}
	for {
		d, err := clients.Glacier.DescribeJob(ctx, &glacier.DescribeJobInput{VaultName: aws.String(vault), JobId: job.JobId})
		if err != nil {
			return res, err
		}
		if d.Completed {
			break
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return res, err
	}
	defer f.Close()
	var w io.Writer = f
	h := sha256.New()
	if opts.Hash {
		w = io.MultiWriter(f, h)
	}
	start := time.Now()
	const chunk = 64 << 20
	for off := int64(0); off < size; off += chunk {
		out, err := clients.Glacier.GetJobOutput(ctx, &glacier.GetJobOutputInput{VaultName: aws.String(vault), JobId: job.JobId,
			Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, min(off+chunk, size)-1))})
		if err != nil {
			return res, err
		}
		_, err = io.Copy(w, out.Body)
		out.Body.Close()
		if err != nil {
			return res, err
		}
	}
	_ = h.Sum(nil)
	res.Written = time.Since(start)
	if opts.Sync {
		if err := f.Sync(); err != nil {
			return res, err
		}
		res.Synced = time.Since(start)
	}
	return res, nil
}
