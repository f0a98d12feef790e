package stacktest

import (
	"os"
	"path/filepath"
)

// StoredObjectPath is where the local cloud started with DataDir dataDir
// keeps an S3 object's bytes (s3lite on gofakes3's afero backend).
func StoredObjectPath(dataDir, bucket, key string) string {
	return filepath.Join(dataDir, "s3", "buckets", bucket, filepath.FromSlash(key))
}

// FlipByte damages a stored object behind the emulator's back: the byte
// at off gets one bit flipped (size and metadata stay as they were).
func FlipByte(dataDir, bucket, key string, off int64) error {
	f, err := os.OpenFile(StoredObjectPath(dataDir, bucket, key), os.O_RDWR, 0)
	if err != nil {
		return err
	}
	one := make([]byte, 1)
	if _, err := f.ReadAt(one, off); err != nil {
		f.Close()
		return err
	}
	one[0] ^= 0x40
	if _, err := f.WriteAt(one, off); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
