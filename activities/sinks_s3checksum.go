package activities

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// crc64NVMETable is CRC-64/NVME (reversed polynomial, as the SDK builds it).
var crc64NVMETable = crc64.MakeTable(0x9a6c9329ac4bc9b5)

// checksumAlgs are S3's checksum algorithms: the object's and a part's
// value (base64, as S3 sends them) and the hash a composite checksum is
// computed with.
var checksumAlgs = []struct {
	name   string
	object func(*s3.HeadObjectOutput) *string
	part   func(*s3types.CompletedPart) *string
	hash   func() hash.Hash
}{
	{"CRC32", func(h *s3.HeadObjectOutput) *string { return h.ChecksumCRC32 }, func(p *s3types.CompletedPart) *string { return p.ChecksumCRC32 },
		func() hash.Hash { return crc32.NewIEEE() }},
	{"CRC32C", func(h *s3.HeadObjectOutput) *string { return h.ChecksumCRC32C }, func(p *s3types.CompletedPart) *string { return p.ChecksumCRC32C },
		func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) }},
	{"CRC64NVME", func(h *s3.HeadObjectOutput) *string { return h.ChecksumCRC64NVME }, func(p *s3types.CompletedPart) *string { return p.ChecksumCRC64NVME },
		func() hash.Hash { return crc64.New(crc64NVMETable) }},
	{"SHA1", func(h *s3.HeadObjectOutput) *string { return h.ChecksumSHA1 }, func(p *s3types.CompletedPart) *string { return p.ChecksumSHA1 }, sha1.New},
	{"SHA256", func(h *s3.HeadObjectOutput) *string { return h.ChecksumSHA256 }, func(p *s3types.CompletedPart) *string { return p.ChecksumSHA256 }, sha256.New},
}

// matchChecksums compares each checksum S3 returned for an object (h)
// with what the parts sent carried for the same algorithm: a composite
// checksum ("value-N") is the hash of the parts' binary checksums; a
// full-object checksum is compared when one part (or a single PutObject)
// made the object — the parts' CRCs of a larger upload are not combined,
// so it is not checked then. A checksum the parts did not all carry is not
// checked. mismatch makes the error of a difference.
func matchChecksums(h *s3.HeadObjectOutput, parts []s3types.CompletedPart, mismatch func(string, ...any) error) error {
	for _, alg := range checksumAlgs {
		got := aws.ToString(alg.object(h))
		if got == "" || len(parts) == 0 {
			continue
		}
		sums := make([]string, len(parts))
		for i := range parts {
			if sums[i] = aws.ToString(alg.part(&parts[i])); sums[i] == "" {
				sums = nil
				break
			}
		}
		if sums == nil {
			continue
		}
		var want string
		switch {
		case h.ChecksumType == s3types.ChecksumTypeComposite || strings.Contains(got, "-"):
			sum := alg.hash()
			for _, s := range sums {
				b, err := base64.StdEncoding.DecodeString(s)
				if err != nil {
					return mismatch("part checksum %s %q is not base64", alg.name, s)
				}
				sum.Write(b)
			}
			want = fmt.Sprintf("%s-%d", base64.StdEncoding.EncodeToString(sum.Sum(nil)), len(sums))
		case len(sums) == 1:
			want = sums[0]
		default:
			continue
		}
		if got != want {
			return mismatch("the object's %s checksum is %s, the parts sent make %s", alg.name, got, want)
		}
	}
	return nil
}
