package router

import (
	"encoding/json"
	"fmt"
)

// glacierWire is a Glacier job notification as published to SNS (the
// DescribeJob JSON). null members decode to zero values.
type glacierWire struct {
	Action                string `json:"Action"`
	JobID                 string `json:"JobId"`
	JobDescription        string `json:"JobDescription"`
	StatusCode            string `json:"StatusCode"`
	StatusMessage         string `json:"StatusMessage"`
	Completed             bool   `json:"Completed"`
	CreationDate          string `json:"CreationDate"`
	CompletionDate        string `json:"CompletionDate"`
	VaultARN              string `json:"VaultARN"`
	ArchiveID             string `json:"ArchiveId"`
	ArchiveSizeInBytes    int64  `json:"ArchiveSizeInBytes"`
	ArchiveSHA256TreeHash string `json:"ArchiveSHA256TreeHash"`
	InventorySizeInBytes  int64  `json:"InventorySizeInBytes"`
	SHA256TreeHash        string `json:"SHA256TreeHash"`
	RetrievalByteRange    string `json:"RetrievalByteRange"`
	Tier                  string `json:"Tier"`
	SNSTopic              string `json:"SNSTopic"`
}

func parseGlacierJob(raw []byte) (*GlacierJob, error) {
	var w glacierWire
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("%w: Glacier job: %v", ErrMalformed, err)
	}
	switch w.Action {
	case "ArchiveRetrieval", "InventoryRetrieval", "Select":
	default:
		return nil, fmt.Errorf("%w: Glacier job with Action %q", ErrUnrecognized, w.Action)
	}
	if w.JobID == "" {
		return nil, fmt.Errorf("%w: Glacier job without JobId", ErrMalformed)
	}
	created, err := parseTime("Glacier CreationDate", w.CreationDate)
	if err != nil {
		return nil, err
	}
	completed, err := parseTime("Glacier CompletionDate", w.CompletionDate)
	if err != nil {
		return nil, err
	}
	return &GlacierJob{
		Action:                w.Action,
		JobID:                 w.JobID,
		JobDescription:        w.JobDescription,
		StatusCode:            w.StatusCode,
		StatusMessage:         w.StatusMessage,
		Completed:             w.Completed,
		CreationDate:          created,
		CompletionDate:        completed,
		VaultARN:              w.VaultARN,
		ArchiveID:             w.ArchiveID,
		ArchiveSizeInBytes:    w.ArchiveSizeInBytes,
		ArchiveSHA256TreeHash: w.ArchiveSHA256TreeHash,
		InventorySizeInBytes:  w.InventorySizeInBytes,
		SHA256TreeHash:        w.SHA256TreeHash,
		RetrievalByteRange:    w.RetrievalByteRange,
		Tier:                  w.Tier,
		SNSTopic:              w.SNSTopic,
	}, nil
}
