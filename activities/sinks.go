package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"go.temporal.io/sdk/temporal"

	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/internal/treehash"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// S3TransferAPI is the part of the S3 client that destinations use.
type S3TransferAPI interface {
	CreateMultipartUpload(context.Context, *s3.CreateMultipartUploadInput, ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(context.Context, *s3.UploadPartInput, ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(context.Context, *s3.CompleteMultipartUploadInput, ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(context.Context, *s3.AbortMultipartUploadInput, ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
	ListMultipartUploads(context.Context, *s3.ListMultipartUploadsInput, ...func(*s3.Options)) (*s3.ListMultipartUploadsOutput, error)
	HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
}

// Sinks writes downloaded data to its destination: a file on the worker
// host (written in place at offsets into a ".vigil-partial" file, renamed
// when verified) or an S3 object (one multipart part per range).
type Sinks struct {
	S3 S3TransferAPI
	// TempDir holds range spools for S3 destinations; empty means os.TempDir.
	TempDir string
}

// PartialSuffix is appended to a file destination until it is verified.
const PartialSuffix = ".vigil-partial"

// Prepared is a destination ready to receive ranges.
type Prepared struct {
	Dest location.Location `json:"dest"`
	Size int64             `json:"size"`
	// UploadID of the S3 multipart upload.
	UploadID string `json:"uploadId,omitempty"`
	// Partial is the file being written (see PartialPath).
	Partial string `json:"partial,omitempty"`
	// Identity is the partial file's token (see newIdentity): range writes
	// and the finish refuse a file with another one.
	Identity string `json:"identity,omitempty"`
}

// PartialPath is the file a file destination is written to until it is
// verified and renamed.
func (p Prepared) PartialPath() string {
	if p.Partial != "" {
		return p.Partial
	}
	return p.Dest.Path + PartialSuffix
}

// PrepareInput names the destination and the total size.
type PrepareInput struct {
	Dest string `json:"dest"`
	Size int64  `json:"size"`
	// Owner (the workflow ID) gets a partial file of its own, so two
	// retrievals to the same path never write into one file.
	Owner string `json:"owner,omitempty"`
}

// partialFor names the partial file of dest for an owner.
func partialFor(dest, owner string) string {
	if owner == "" {
		return dest + PartialSuffix
	}
	sum := sha256.Sum256([]byte(owner))
	return dest + "." + hex.EncodeToString(sum[:4]) + PartialSuffix
}

// PrepareDestination creates the partial file (mode 0600) with a new
// identity token, or starts the multipart upload. Ranges recorded before
// are never trusted in a file prepared again: it has another identity.
func (a *Sinks) PrepareDestination(ctx context.Context, in PrepareInput) (Prepared, error) {
	dest, err := location.Parse(in.Dest)
	if err != nil {
		return Prepared{}, BadInput("destination: %v", err)
	}
	p := Prepared{Dest: dest, Size: in.Size}
	switch dest.Scheme {
	case location.File:
		if err := localDestination(dest.Path); err != nil {
			return p, err
		}
		if in.Owner != "" {
			p.Partial = partialFor(dest.Path, in.Owner)
		}
		f, err := os.OpenFile(p.PartialPath(), os.O_RDWR|os.O_CREATE, partialMode)
		if err != nil {
			return p, fileError("destination", p.PartialPath(), err)
		}
		defer f.Close()
		if err := f.Chmod(partialMode); err != nil { // a file left by an older worker
			return p, fmt.Errorf("destination: %w", err)
		}
		if err := f.Truncate(in.Size); err != nil {
			return p, fmt.Errorf("destination: %w", err)
		}
		if p.Identity, err = newIdentity(p.PartialPath()); err != nil {
			return p, fmt.Errorf("destination identity: %w", err)
		}
		// The file and its token survive a reboot: ranges never create it.
		if err := syncPath(filepath.Dir(dest.Path)); err != nil {
			return p, fmt.Errorf("destination: %w", err)
		}
		return p, nil
	case location.S3:
		out, err := a.S3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(dest.Bucket), Key: aws.String(dest.Key)})
		if err != nil {
			return p, Classify("S3 CreateMultipartUpload "+dest.String(), err)
		}
		p.UploadID = aws.ToString(out.UploadId)
		return p, nil
	default:
		return p, BadInput("destination %s: only file:// and s3:// are supported here", dest)
	}
}

// RangePart is a range written to the destination.
type RangePart struct {
	Index    int    `json:"index"`
	Bytes    int64  `json:"bytes"`
	TreeHash string `json:"treeHash"`
	// ETag of the S3 part.
	ETag string `json:"etag,omitempty"`
	// Boot is the boot id of the host that wrote a file range: ranges are
	// not synced one by one, so the finish re-checks those written before
	// the host last restarted.
	Boot string `json:"boot,omitempty"`
}

// FinishInput completes a destination.
type FinishInput struct {
	Prepared Prepared    `json:"prepared"`
	Parts    []RangePart `json:"parts"`
	// TreeHash the whole output must have; empty skips the check.
	TreeHash string `json:"treeHash,omitempty"`
	// Fsync syncs a file and its rename before the finish reports.
	Fsync bool `json:"fsync,omitempty"`
	// Batches replace Parts for an output delivered in batches (large
	// archives); a RangesLost error then lists batch numbers.
	Batches []BatchSummary `json:"batches,omitempty"`
	// Verify is flowdata.VerifyFull to re-read every byte of a file
	// destination before it is published ("" or VerifyCheap re-reads only
	// ranges written before the host restarted).
	Verify string `json:"verify,omitempty"`
}

// FinishResult describes the delivered output.
type FinishResult struct {
	Location string `json:"location"`
	Bytes    int64  `json:"bytes"`
	TreeHash string `json:"treeHash"`
}

// FinishDestination verifies and publishes the output: the ranges' tree
// hashes (each checked against Glacier's as it was written) must combine
// into the whole output's. A file must still be the one prepared (its
// identity) and of the output's size; ranges written before the host
// restarted (every range with Verify full) are re-read, heartbeating, and
// lost ones reported in a RangesLost error. The file is then renamed from
// its partial name, so nothing unverified ever appears at the destination
// path. An S3 multipart upload is completed and the object's size and part
// count checked.
func (a *Sinks) FinishDestination(ctx context.Context, in FinishInput) (FinishResult, error) {
	if len(in.Batches) > 0 {
		return a.finishBatches(ctx, in)
	}
	p := in.Prepared
	parts := append([]RangePart(nil), in.Parts...)
	sort.Slice(parts, func(i, j int) bool { return parts[i].Index < parts[j].Index })
	leaves := make([][]byte, 0, len(parts))
	var total int64
	for _, part := range parts {
		leaves = append(leaves, mustHex(part.TreeHash))
		total += part.Bytes
	}
	// Range hashes combine into the whole tree hash only for power-of-two
	// MiB ranges; a file with other ranges is hashed whole instead.
	sum := hex.EncodeToString(treehash.Combine(leaves))
	aligned := alignedParts(parts)
	switch p.Dest.Scheme {
	case location.File:
		partial := p.PartialPath()
		spans := make([]span, len(parts))
		var off int64
		for i, part := range parts {
			spans[i] = span{N: part.Index, Offset: off, Bytes: part.Bytes, Hash: part.TreeHash, Boot: part.Boot}
			off += part.Bytes
		}
		if err := checkSpans(ctx, p, spans, in.Verify == flowdata.VerifyFull, "range(s)"); err != nil {
			return FinishResult{}, err
		}
		if !aligned {
			var err error
			if sum, err = fileTreeHash(ctx, partial, in.Verify == flowdata.VerifyFull); err != nil {
				return FinishResult{}, fmt.Errorf("finish: %w", err)
			}
		}
		if err := matchTreeHash(sum, in.TreeHash); err != nil {
			return FinishResult{}, err
		}
		if err := publishFile(partial, p.Dest.Path, in.Fsync); err != nil {
			return FinishResult{}, fmt.Errorf("finish: %w", err)
		}
	case location.S3:
		if err := matchTreeHash(sum, in.TreeHash); err != nil {
			return FinishResult{}, err
		}
		completed := make([]s3types.CompletedPart, 0, len(parts))
		for _, part := range parts {
			completed = append(completed, s3types.CompletedPart{PartNumber: aws.Int32(int32(part.Index + 1)), ETag: aws.String(part.ETag)})
		}
		if err := completeUpload(ctx, a.S3, p, completed, total); err != nil {
			return FinishResult{}, err
		}
	default:
		return FinishResult{}, BadInput("destination %s not supported", p.Dest)
	}
	return FinishResult{Location: p.Dest.String(), Bytes: total, TreeHash: sum}, nil
}

// alignedParts reports whether every range but the last is a power-of-two
// number of MiB (each range hash is then a node of the whole tree).
func alignedParts(parts []RangePart) bool {
	for i, p := range parts {
		if i < len(parts)-1 && (p.Bytes%treehash.ChunkSize != 0 || (p.Bytes/treehash.ChunkSize)&(p.Bytes/treehash.ChunkSize-1) != 0 || p.Bytes != parts[0].Bytes) {
			return false
		}
	}
	return true
}

// matchTreeHash fails when the output's tree hash is not the job's
// (want "" skips the check).
func matchTreeHash(got, want string) error {
	if want == "" || got == want {
		return nil
	}
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf("the output has tree hash %s, Glacier says %s", got, want), ErrTypeChecksumMismatch, nil)
}
