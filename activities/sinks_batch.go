package activities

import (
	"context"
	"encoding/hex"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/vigilops/vigil/internal/location"
	"github.com/vigilops/vigil/internal/treehash"
	"github.com/vigilops/vigil/workflows/flowdata"
)

// BatchSummary is a run of consecutive ranges delivered by one batch of a
// large retrieval, in a few bytes instead of one RangePart per range: so
// that the finish of a 40 TiB archive fits in one payload.
type BatchSummary struct {
	// First range index and Count of ranges.
	First int `json:"first"`
	Count int `json:"count"`
	// Offset of the batch's first byte and its Bytes.
	Offset int64 `json:"offset"`
	Bytes  int64 `json:"bytes"`
	// TreeHash of the batch's bytes (a node of the output's tree: batches
	// are a power-of-two number of power-of-two MiB ranges).
	TreeHash string `json:"treeHash"`
	// Boot is the boot id every range of a file batch was written under
	// ("" when they differ: the finish then re-checks the batch).
	Boot string `json:"boot,omitempty"`
	// ETags of the batch's S3 parts, part First+1 on.
	ETags []string `json:"etags,omitempty"`
}

// SummarizeBatch folds the delivered parts of one batch (in index order)
// into its summary.
func SummarizeBatch(offset int64, parts []RangePart) BatchSummary {
	b := BatchSummary{Offset: offset, Count: len(parts)}
	leaves := make([][]byte, 0, len(parts))
	for i, p := range parts {
		if i == 0 {
			b.First, b.Boot = p.Index, p.Boot
		}
		if p.Boot != b.Boot {
			b.Boot = ""
		}
		b.Bytes += p.Bytes
		leaves = append(leaves, mustHex(p.TreeHash))
		if p.ETag != "" {
			b.ETags = append(b.ETags, p.ETag)
		}
	}
	b.TreeHash = hex.EncodeToString(treehash.Combine(leaves))
	return b
}

// finishBatches is FinishDestination for an output delivered in batches:
// the batch hashes combine into the output's, a file's batches written
// under another boot (every batch with Verify full) are re-read (lost
// ones are reported by batch number in a RangesLost error), and an S3
// upload is completed from the batches' ETags and checked.
func (a *Sinks) finishBatches(ctx context.Context, in FinishInput) (FinishResult, error) {
	p := in.Prepared
	leaves := make([][]byte, 0, len(in.Batches))
	var total int64
	for _, b := range in.Batches {
		leaves = append(leaves, mustHex(b.TreeHash))
		total += b.Bytes
	}
	sum := hex.EncodeToString(treehash.Combine(leaves))
	switch p.Dest.Scheme {
	case location.File:
		partial := p.PartialPath()
		spans := make([]span, len(in.Batches))
		for n, b := range in.Batches {
			spans[n] = span{N: n, Offset: b.Offset, Bytes: b.Bytes, Hash: b.TreeHash, Boot: b.Boot}
		}
		if err := checkSpans(ctx, p, spans, in.Verify == flowdata.VerifyFull, "batch(es)"); err != nil {
			return FinishResult{}, err
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
		var completed []s3types.CompletedPart
		for _, b := range in.Batches {
			for i, etag := range b.ETags {
				completed = append(completed, s3types.CompletedPart{PartNumber: aws.Int32(int32(b.First + i + 1)), ETag: aws.String(etag)})
			}
		}
		if err := completeUpload(ctx, a.S3, p, completed, total); err != nil {
			return FinishResult{}, err
		}
	default:
		return FinishResult{}, BadInput("destination %s not supported", p.Dest)
	}
	return FinishResult{Location: p.Dest.String(), Bytes: total, TreeHash: sum}, nil
}
