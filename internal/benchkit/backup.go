package benchkit

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/vigilops/vigil/activities"
	"github.com/vigilops/vigil/internal/detdata"
)

// DataServer serves size bytes of deterministic data (detdata seed) with a
// Content-Length on every GET: a backup source that keeps disks out of the
// way. Close it when done.
func DataServer(seed uint64, size int64) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		_, _ = io.Copy(w, detdata.New(seed, size))
	}))
}

// RawS3Upload streams body (read as a plain io.Reader, as a backup's
// source is) into s3://bucket/key through the SDK's upload manager with
// vigil's default backup part size and concurrency, and says how long it
// took: the baseline of a backup's upload.
func RawS3Upload(ctx context.Context, api manager.UploadAPIClient, bucket, key string, body io.Reader) (time.Duration, error) {
	start := time.Now()
	u := manager.NewUploader(api, func(u *manager.Uploader) {
		u.PartSize, u.Concurrency = activities.DefaultBackupPartSize, activities.DefaultBackupConcurrency
	})
	_, err := u.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: io.MultiReader(body)})
	return time.Since(start), err
}

// RawS3Download fetches s3://bucket/key into the file at path through the
// SDK's download manager (its default part size and concurrency), syncs
// the file (a restore does), and says how long it took: the baseline of a
// restore to a file.
func RawS3Download(ctx context.Context, api manager.DownloadAPIClient, bucket, key, path string) (int64, time.Duration, error) {
	start := time.Now()
	f, err := os.Create(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	n, err := manager.NewDownloader(api).Download(ctx, f, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err == nil {
		err = f.Sync()
	}
	return n, time.Since(start), err
}
