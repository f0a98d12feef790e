package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/client"

	"github.com/vigilops/vigil/internal/awsconf"
	"github.com/vigilops/vigil/internal/benchkit"
	"github.com/vigilops/vigil/internal/localcloud"
	"github.com/vigilops/vigil/workflows"
	"github.com/vigilops/vigil/workflows/flowdata"
)

func init() { register(backupScenario{}) }

// backupScenario: a backup and a restore run by a separate lean worker
// process, against raw upload and download managers, at two sizes.
type backupScenario struct{}

func (backupScenario) Name() string  { return "backup" }
func (backupScenario) Title() string { return "Backup and restore throughput and worker RSS" }
func (backupScenario) Describe() string {
	return "Per round and per size (256 MiB, then 1 GiB; quick: 8 and 16 MiB), a fresh separately started lean worker process " +
		"(`-tags nodev`): the raw baseline uploads the bytes of an http source (deterministic data served from the bench " +
		"process) to the S3 emulator with the SDK's upload manager (vigil's default 8 MiB parts, 4 at once), and the Backup " +
		"workflow backs the same source up (streaming multipart upload, SHA-256, metadata rewrite, latest.json); each upload " +
		"starts after a GC and a sync, the raw one first in even rounds and second in odd ones; the raw " +
		"baseline downloads the object to a file in the scratch directory with the SDK's download manager (its defaults, " +
		"then fsync), then the Restore workflow restores it to a file there (one streamed GET, SHA-256 checked, fsync, " +
		"rename). Throughput is bytes / wall time from ExecuteWorkflow to the result (the raw calls: their own time), " +
		"figures at the larger size; the upload activity's own time is shown too. Peak RSS is the worker process's VmHWM " +
		"after both runs, at each size."
}

func (backupScenario) Run(env *Env) ([]Measure, error) {
	cloud, clients, err := env.Cloud(localcloud.Options{})
	if err != nil {
		return nil, errorf("local cloud", err)
	}
	const bucket = "bench-backups"
	if _, err := clients.S3.CreateBucket(env.Ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return nil, errorf("bucket", err)
	}
	dir, err := os.MkdirTemp(env.Dir, "backup-")
	if err != nil {
		return nil, err
	}
	env.Defer(func() { _ = os.RemoveAll(dir) })
	sizes := []int64{256 << 20, 1 << 30}
	if env.Quick {
		sizes = []int64{8 << 20, 16 << 20}
	}
	var out []Measure
	for i, size := range sizes {
		r, err := backupRound(env, cloud, clients, bucket, dir, size)
		if err != nil {
			return nil, errorf(fmt.Sprintf("%d MiB", size>>20), err)
		}
		label := sizeLabel(size)
		out = append(out, Measure{Name: "worker peak RSS (VmHWM), lean build, " + label, Unit: "MiB", Vigil: []float64{r.hwmMiB}, Goal: "≤ 150 MiB, flat in size"})
		if i < len(sizes)-1 {
			continue
		}
		mib := float64(size) / (1 << 20)
		rate := func(d time.Duration) []float64 { return []float64{mib / d.Seconds()} }
		out = append(out,
			Measure{Name: "backup run vs raw upload, " + label, Unit: "MiB/s", HigherIsBetter: true, Vigil: rate(r.backup),
				BaselineName: "upload manager, same stream", Baseline: rate(r.rawUp), Goal: "≥ 90 %"},
			Measure{Name: "backup upload activity vs raw upload, " + label, Unit: "MiB/s", HigherIsBetter: true, Vigil: rate(r.upload),
				BaselineName: "upload manager, same stream", Baseline: rate(r.rawUp)},
			Measure{Name: "restore run vs raw download, " + label, Unit: "MiB/s", HigherIsBetter: true, Vigil: rate(r.restore),
				BaselineName: "download manager to a file", Baseline: rate(r.rawDown), Goal: "≥ 90 %"})
	}
	return out, nil
}

// backupTimes are one size's figures.
type backupTimes struct {
	rawUp, backup, upload, rawDown, restore time.Duration
	hwmMiB                                  float64
}

func backupRound(env *Env, cloud *localcloud.Cloud, clients *awsconf.Clients, bucket, dir string, size int64) (backupTimes, error) {
	var r backupTimes
	worker, err := env.WorkerProcess("nodev", cloud.URL(), nil)
	if err != nil {
		return r, errorf("worker process", err)
	}
	defer worker.Stop() // the next size gets a fresh process (and VmHWM)
	src := benchkit.DataServer(uint64(size), size)
	defer src.Close()
	name := fmt.Sprintf("r%d-%dm", env.Round, size>>20)
	rawUp := func() error {
		resp, err := http.Get(src.URL)
		if err != nil {
			return errorf("source", err)
		}
		defer resp.Body.Close()
		if r.rawUp, err = benchkit.RawS3Upload(env.Ctx, clients.S3, bucket, "raw/"+name+".bin", resp.Body); err != nil {
			return errorf("raw upload", err)
		}
		return nil
	}
	var res flowdata.BackupResult
	backup := func() error {
		start := time.Now()
		if err := runFlow(env, workflows.BackupName, "bench-backup/"+name, flowdata.BackupInput{Name: name, Source: src.URL, Target: "s3://" + bucket + "/"}, &res); err != nil {
			return errorf("backup", err)
		}
		r.backup = time.Since(start)
		return nil
	}
	// Each upload starts settled; odd rounds upload vigil's backup first
	// anyway, so that what settling misses burdens both sides alike.
	first, second := rawUp, backup
	if env.Round%2 == 1 {
		first, second = backup, rawUp
	}
	for _, upload := range []func() error{first, second} {
		settle()
		if err := upload(); err != nil {
			return r, err
		}
	}
	if res.Bytes != size || res.BytesPerSecond <= 0 {
		return r, fmt.Errorf("backed up %d bytes at %.0f B/s, want %d", res.Bytes, res.BytesPerSecond, size)
	}
	r.upload = time.Duration(float64(res.Bytes) / res.BytesPerSecond * float64(time.Second))
	raw := filepath.Join(dir, name+".raw")
	n, d, err := benchkit.RawS3Download(env.Ctx, clients.S3, bucket, res.Key, raw)
	if err != nil || n != size {
		return r, errorf("raw download", fmt.Errorf("%d bytes: %v", n, err))
	}
	r.rawDown = d
	_ = os.Remove(raw)
	dest := filepath.Join(dir, name+".restored")
	start := time.Now()
	var rres flowdata.RestoreResult
	if err := runFlow(env, workflows.RestoreName, "bench-restore/"+name, flowdata.RestoreInput{From: "s3://" + bucket + "/" + res.Key, To: "file://" + dest}, &rres); err != nil {
		return r, errorf("restore", err)
	}
	r.restore = time.Since(start)
	_ = os.Remove(dest)
	if rres.Bytes != size || rres.SHA256 != res.SHA256 {
		return r, fmt.Errorf("restored %d bytes with SHA-256 %s, want %d and %s", rres.Bytes, rres.SHA256, size, res.SHA256)
	}
	hwm, err := worker.StatusKiB("VmHWM")
	if err != nil {
		return r, err
	}
	r.hwmMiB = float64(hwm) / 1024
	return r, nil
}

// runFlow runs a workflow to its end on the bench server.
func runFlow(env *Env, name, id string, in, out any) error {
	run, err := env.Server.Client.ExecuteWorkflow(env.Ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue}, name, in)
	if err != nil {
		return err
	}
	return run.Get(env.Ctx, out)
}

// sizeLabel is 256 MiB or 1 GiB.
func sizeLabel(size int64) string {
	if size >= 1<<30 && size%(1<<30) == 0 {
		return fmt.Sprintf("%d GiB", size>>30)
	}
	return fmt.Sprintf("%d MiB", size>>20)
}

// settle lets the previous upload's aftermath pass before the next one
// starts: without it the second upload of a round ran ~1.7× slower than
// the first, whichever it was, as it met the first one's dirty pages being
// written back and the emulator's gigabytes of garbage (collected here).
func settle() {
	runtime.GC()
	debug.FreeOSMemory()
	syscall.Sync()
}
