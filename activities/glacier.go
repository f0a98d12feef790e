package activities

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glacier"
	"github.com/aws/aws-sdk-go-v2/service/glacier/types"
	"github.com/aws/smithy-go"
	"go.temporal.io/sdk/temporal"

	"github.com/vigilops/vigil/workflows/flowdata"
)

// GlacierAPI is the part of the Glacier client vigil uses.
type GlacierAPI interface {
	InitiateJob(context.Context, *glacier.InitiateJobInput, ...func(*glacier.Options)) (*glacier.InitiateJobOutput, error)
	DescribeJob(context.Context, *glacier.DescribeJobInput, ...func(*glacier.Options)) (*glacier.DescribeJobOutput, error)
	ListJobs(context.Context, *glacier.ListJobsInput, ...func(*glacier.Options)) (*glacier.ListJobsOutput, error)
	GetJobOutput(context.Context, *glacier.GetJobOutputInput, ...func(*glacier.Options)) (*glacier.GetJobOutputOutput, error)
	DescribeVault(context.Context, *glacier.DescribeVaultInput, ...func(*glacier.Options)) (*glacier.DescribeVaultOutput, error)
}

// Glacier holds the activities that act on Amazon Glacier vaults.
type Glacier struct {
	Client GlacierAPI
	// Sinks writes downloaded output to its destination.
	Sinks *Sinks
}

// InitiateJobInput starts a retrieval.
type InitiateJobInput struct {
	Job flowdata.GlacierJob `json:"job"`
	// ArchiveID to retrieve; empty means an inventory retrieval.
	ArchiveID string `json:"archiveId,omitempty"`
	Tier      string `json:"tier,omitempty"`
	// ByteRange of the archive, "start-end", optional.
	ByteRange string `json:"byteRange,omitempty"`
	// Description is written as JobDescription; notifications carry it back.
	Description string `json:"description"`
	// SNSTopic overrides the vault's notification topic for this job.
	SNSTopic string `json:"snsTopic,omitempty"`
}

// InitiateJob starts the retrieval job, or adopts a job this workflow
// already started (same description and archive, in progress or succeeded),
// so that a retried activity never pays for a second retrieval.
func (a *Glacier) InitiateJob(ctx context.Context, in InitiateJobInput) (flowdata.GlacierJobState, error) {
	if st, ok, err := a.findJob(ctx, in); err != nil || ok {
		return st, err
	}
	params := &types.JobParameters{Description: aws.String(in.Description)}
	if in.ArchiveID == "" {
		params.Type = aws.String("inventory-retrieval")
		params.Format = aws.String("JSON")
	} else {
		params.Type = aws.String("archive-retrieval")
		params.ArchiveId = aws.String(in.ArchiveID)
		if in.ByteRange != "" {
			params.RetrievalByteRange = aws.String(in.ByteRange)
		}
	}
	if in.Tier != "" {
		params.Tier = aws.String(in.Tier)
	}
	if in.SNSTopic != "" {
		params.SNSTopic = aws.String(in.SNSTopic)
	}
	out, err := a.Client.InitiateJob(ctx, &glacier.InitiateJobInput{
		AccountId: aws.String(in.Job.AccountID), VaultName: aws.String(in.Job.Vault), JobParameters: params})
	if err != nil {
		return flowdata.GlacierJobState{}, initiateError(in, err)
	}
	return flowdata.GlacierJobState{JobID: aws.ToString(out.JobId), StatusCode: "InProgress", Description: in.Description}, nil
}

// initiateError classifies a failed InitiateJob, naming what was not
// found: "Glacier InitiateJob: archive … not found in vault demo-vault"
// (Glacier answers ResourceNotFoundException for a missing vault and a
// missing archive alike; its message tells which).
func initiateError(in InitiateJobInput, err error) error {
	const op = "Glacier InitiateJob"
	c := Classify(op+" "+in.Job.Vault, err)
	var appErr *temporal.ApplicationError
	var api smithy.APIError
	if !errors.As(c, &appErr) || appErr.Type() != ErrTypeNotFound || !errors.As(err, &api) {
		return c
	}
	var what string
	switch {
	case strings.Contains(strings.ToLower(api.ErrorMessage()), "vault not found"):
		what = "vault " + in.Job.Vault + " not found"
	case in.ArchiveID != "":
		what = "archive " + in.ArchiveID + " not found in vault " + in.Job.Vault
	default:
		return c
	}
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: %s (%s)", op, what, api.ErrorMessage()), ErrTypeNotFound, err)
}

// findJob looks for a reusable job of this workflow in the vault.
func (a *Glacier) findJob(ctx context.Context, in InitiateJobInput) (flowdata.GlacierJobState, bool, error) {
	var marker *string
	for {
		out, err := a.Client.ListJobs(ctx, &glacier.ListJobsInput{
			AccountId: aws.String(in.Job.AccountID), VaultName: aws.String(in.Job.Vault), Marker: marker})
		if err != nil {
			return flowdata.GlacierJobState{}, false, Classify("Glacier ListJobs "+in.Job.Vault, err)
		}
		for _, j := range out.JobList {
			if !sameRequest(in, j) {
				continue
			}
			if j.StatusCode == types.StatusCodeInProgress || j.StatusCode == types.StatusCodeSucceeded {
				return jobState(j), true, nil
			}
		}
		if out.Marker == nil || *out.Marker == "" {
			return flowdata.GlacierJobState{}, false, nil
		}
		marker = out.Marker
	}
}

// sameRequest reports whether a listed job is the retrieval in asks for:
// same description (the workflow ID), archive, tier and byte range. A job
// without a range (or with the whole archive's range) is a full retrieval,
// which a ranged request does not adopt, nor the other way round.
func sameRequest(in InitiateJobInput, j types.GlacierJobDescription) bool {
	if aws.ToString(j.JobDescription) != in.Description || aws.ToString(j.ArchiveId) != in.ArchiveID {
		return false
	}
	if tierOrDefault(aws.ToString(j.Tier)) != tierOrDefault(in.Tier) {
		return false
	}
	return jobRange(j) == in.ByteRange
}

// tierOrDefault is the tier Glacier applies: Standard when none is given.
func tierOrDefault(t string) string {
	if t == "" {
		return flowdata.TierStandard
	}
	return t
}

// jobRange is the byte range a job asked for, "" for the whole archive
// (Glacier lists a full retrieval as 0 to size-1).
func jobRange(j types.GlacierJobDescription) string {
	r := aws.ToString(j.RetrievalByteRange)
	if r == "" || j.ArchiveSizeInBytes != nil && r == fmt.Sprintf("0-%d", aws.ToInt64(j.ArchiveSizeInBytes)-1) {
		return ""
	}
	return r
}

// DescribeJob reads a job's state. A job Glacier no longer knows (its
// output expired) is a NotFound error.
func (a *Glacier) DescribeJob(ctx context.Context, job flowdata.GlacierJob) (flowdata.GlacierJobState, error) {
	out, err := a.Client.DescribeJob(ctx, &glacier.DescribeJobInput{
		AccountId: aws.String(job.AccountID), VaultName: aws.String(job.Vault), JobId: aws.String(job.JobID)})
	if err != nil {
		return flowdata.GlacierJobState{}, Classify("Glacier DescribeJob "+job.JobID, err)
	}
	st := jobState(types.GlacierJobDescription{
		JobId: out.JobId, StatusCode: out.StatusCode, StatusMessage: out.StatusMessage, Completed: out.Completed,
		CompletionDate: out.CompletionDate, ArchiveSizeInBytes: out.ArchiveSizeInBytes, InventorySizeInBytes: out.InventorySizeInBytes,
		SHA256TreeHash: out.SHA256TreeHash, JobDescription: out.JobDescription, RetrievalByteRange: out.RetrievalByteRange,
		Action: out.Action,
	})
	st.Source = "poll"
	return st, nil
}

func jobState(j types.GlacierJobDescription) flowdata.GlacierJobState {
	st := flowdata.GlacierJobState{
		JobID: aws.ToString(j.JobId), StatusCode: string(j.StatusCode), StatusMessage: aws.ToString(j.StatusMessage),
		Completed: j.Completed, CompletionDate: aws.ToString(j.CompletionDate), TreeHash: aws.ToString(j.SHA256TreeHash),
		Description: aws.ToString(j.JobDescription),
	}
	switch {
	case j.Action == types.ActionCodeInventoryRetrieval:
		st.OutputSize = aws.ToInt64(j.InventorySizeInBytes)
	case aws.ToString(j.RetrievalByteRange) != "":
		if r, err := ParseByteRange(aws.ToString(j.RetrievalByteRange)); err == nil {
			st.OutputSize = r.Len()
		}
	default:
		st.OutputSize = aws.ToInt64(j.ArchiveSizeInBytes)
	}
	return st
}

// ParseByteRange parses "start-end" (inclusive).
func ParseByteRange(s string) (flowdata.ByteRange, error) {
	a, b, ok := strings.Cut(s, "-")
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || start < 0 || end < start {
		return flowdata.ByteRange{}, fmt.Errorf("byte range %q: want start-end", s)
	}
	return flowdata.ByteRange{Start: start, End: end}, nil
}
