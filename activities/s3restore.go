package activities

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/vigilops/vigil/workflows/flowdata"
)

// S3RestoreAPI is the part of the S3 client restores use.
type S3RestoreAPI interface {
	RestoreObject(context.Context, *s3.RestoreObjectInput, ...func(*s3.Options)) (*s3.RestoreObjectOutput, error)
	HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
}

// S3Restore holds the activities that restore archived S3 objects.
type S3Restore struct {
	Client S3RestoreAPI
}

// RestoreInput asks for a restore.
type RestoreInput struct {
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	VersionID string `json:"versionId,omitempty"`
	Days      int32  `json:"days"`
	Tier      string `json:"tier"`
}

// RestoreObject requests the restore. It is idempotent: a restore already
// in progress, an object already restored, or one not archived at all are
// all answers, not errors.
func (a *S3Restore) RestoreObject(ctx context.Context, in RestoreInput) (flowdata.S3RestoreState, error) {
	req := &s3.RestoreObjectInput{
		Bucket: aws.String(in.Bucket), Key: aws.String(in.Key),
		RestoreRequest: &s3types.RestoreRequest{Days: aws.Int32(in.Days),
			GlacierJobParameters: &s3types.GlacierJobParameters{Tier: s3types.Tier(in.Tier)}},
	}
	if in.VersionID != "" {
		req.VersionId = aws.String(in.VersionID)
	}
	_, err := a.Client.RestoreObject(ctx, req)
	if isAPICode(err, "InvalidArgument") {
		// S3 refuses Days for objects in the archive tiers of
		// INTELLIGENT_TIERING ("not subject to restore expiry"): a restore
		// moves them back to the Frequent Access tier for good. Ask again
		// without it when HEAD says the object is one of those.
		if head, herr := a.Client.HeadObject(ctx, headRequest(in.Bucket, in.Key, in.VersionID)); herr == nil &&
			head.StorageClass == s3types.StorageClassIntelligentTiering {
			req.RestoreRequest.Days = nil
			_, err = a.Client.RestoreObject(ctx, req)
		}
	}
	var active *s3types.ObjectAlreadyInActiveTierError
	switch {
	case err == nil, isAPICode(err, "RestoreAlreadyInProgress"):
		// 202 (started), 200 (already restored) or 409: HEAD tells which.
	case errors.As(err, &active):
		// Not archived: readable as it is. HEAD still gives the size (and
		// class) that the delivery reports and checks.
		st, err := a.HeadRestore(ctx, HeadRestoreInput{Bucket: in.Bucket, Key: in.Key, VersionID: in.VersionID})
		if err != nil {
			return flowdata.S3RestoreState{}, err
		}
		st.Restored, st.NotArchived, st.Ongoing, st.Source = true, true, false, "restore"
		return st, nil
	default:
		return flowdata.S3RestoreState{}, Classify(fmt.Sprintf("S3 RestoreObject s3://%s/%s", in.Bucket, in.Key), err)
	}
	st, err := a.HeadRestore(ctx, HeadRestoreInput{Bucket: in.Bucket, Key: in.Key, VersionID: in.VersionID})
	st.Source = "restore"
	return st, err
}

// HeadRestoreInput names the object.
type HeadRestoreInput struct {
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	VersionID string `json:"versionId,omitempty"`
}

// HeadRestore reads the object's x-amz-restore state.
func (a *S3Restore) HeadRestore(ctx context.Context, in HeadRestoreInput) (flowdata.S3RestoreState, error) {
	out, err := a.Client.HeadObject(ctx, headRequest(in.Bucket, in.Key, in.VersionID))
	if err != nil {
		return flowdata.S3RestoreState{}, Classify(fmt.Sprintf("S3 HeadObject s3://%s/%s", in.Bucket, in.Key), err)
	}
	return RestoreStateOf(in.Bucket, in.Key, out), nil
}

// RestoreStateOf maps a HeadObject answer to the restore state. An object
// must be restored before it can be read when it is in the GLACIER or
// DEEP_ARCHIVE class, or in the Archive Access or Deep Archive Access
// tier of INTELLIGENT_TIERING (S3 tells that tier in x-amz-archive-status,
// the class staying INTELLIGENT_TIERING). Any other object without
// x-amz-restore is readable as it is: not archived, restored.
func RestoreStateOf(bucket, key string, out *s3.HeadObjectOutput) flowdata.S3RestoreState {
	st := ParseRestoreHeader(aws.ToString(out.Restore))
	st.Bucket, st.Key, st.Size, st.StorageClass, st.Source = bucket, key, aws.ToInt64(out.ContentLength), string(out.StorageClass), "head"
	if !archivedHead(out) && !st.Ongoing && !st.Restored {
		st.NotArchived, st.Restored = true, true
	}
	return st
}

// archivedHead reports whether HeadObject describes an archived object.
func archivedHead(out *s3.HeadObjectOutput) bool {
	switch {
	case out.StorageClass == s3types.StorageClassGlacier, out.StorageClass == s3types.StorageClassDeepArchive:
		return true
	case out.ArchiveStatus != "":
		// ARCHIVE_ACCESS or DEEP_ARCHIVE_ACCESS (INTELLIGENT_TIERING).
		return true
	}
	return false
}

func headRequest(bucket, key, versionID string) *s3.HeadObjectInput {
	req := &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if versionID != "" {
		req.VersionId = aws.String(versionID)
	}
	return req
}

var (
	ongoingRE = regexp.MustCompile(`ongoing-request="(true|false)"`)
	expiryRE  = regexp.MustCompile(`expiry-date="([^"]+)"`)
)

// ParseRestoreHeader reads x-amz-restore: `ongoing-request="true"` or
// `ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"`.
func ParseRestoreHeader(h string) flowdata.S3RestoreState {
	var st flowdata.S3RestoreState
	if m := ongoingRE.FindStringSubmatch(h); m != nil {
		st.Ongoing = m[1] == "true"
		st.Restored = m[1] == "false"
	}
	if m := expiryRE.FindStringSubmatch(h); m != nil {
		if t, err := time.Parse(time.RFC1123, m[1]); err == nil {
			st.Expiry = t.UTC()
		}
	}
	return st
}
