package router

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const samplesDir = "testdata/samples"

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// sampleWant is the expected result of parsing each file in samplesDir, a
// byte-for-byte copy of the design samples (see TestSamplesMatchShared).
var sampleWant = map[string]struct {
	want Notification
	err  error
}{
	"glacier-job-completed.sns.json": {want: Notification{
		Kind:     KindGlacierJob,
		Source:   SourceSNS,
		TopicARN: "arn:aws:sns:ap-northeast-1:111122223333:vigil-glacier",
		Glacier: &GlacierJob{
			Action:                "ArchiveRetrieval",
			JobID:                 "HkF9p6o7yjhFx-K3CGl6fuSm6VzW9T7esGQfco8nUXVYwS0jlb5gq1JZ55yHgt5vP54ZShjoQzQVVh7vEXAMPLEjobID",
			JobDescription:        "glacier/Backup_20121015_1/kKB7ymWJVpPS",
			StatusCode:            "Succeeded",
			StatusMessage:         "Succeeded",
			Completed:             true,
			CreationDate:          ts("2026-10-17T08:25:54.838Z"),
			CompletionDate:        ts("2026-10-17T12:26:03.931Z"),
			VaultARN:              "arn:aws:glacier:ap-northeast-1:111122223333:vaults/Backup_20121015_1",
			ArchiveID:             "kKB7ymWJVpPSwhGP6ycSOAekp9ZYe_--zM_mw6k76ZFGEIWQX-ybtRDvc2VkPSDtfKmQrj0IRQLSGsNuDp-AJVlu2ccmDSyDUmZwKbwbpAdGATGDiB3hHO0bjbGehXTcApVud_wyDw",
			ArchiveSizeInBytes:    501510000,
			ArchiveSHA256TreeHash: "9628195fcdbcbbe76cdde932d4646fa7de5f219fb39823836d81f0cc0e18aa67",
			SHA256TreeHash:        "9628195fcdbcbbe76cdde932d4646fa7de5f219fb39823836d81f0cc0e18aa67",
			RetrievalByteRange:    "0-501509999",
			Tier:                  "Standard",
			SNSTopic:              "arn:aws:sns:ap-northeast-1:111122223333:vigil-glacier",
		},
	}},
	"glacier-inventory-completed.raw.json": {want: Notification{
		Kind:   KindGlacierJob,
		Source: SourceRaw,
		Glacier: &GlacierJob{
			Action:               "InventoryRetrieval",
			JobID:                "Inv3nt0ryJ0bIdEXAMPLE-2kAX8sT1k5Q6mZ7uH9c0Lw",
			StatusCode:           "Succeeded",
			StatusMessage:        "Succeeded",
			Completed:            true,
			CreationDate:         ts("2026-10-17T21:00:00.000Z"),
			CompletionDate:       ts("2026-10-18T01:02:03.000Z"),
			VaultARN:             "arn:aws:glacier:ap-northeast-1:111122223333:vaults/Backup_20121015_1",
			InventorySizeInBytes: 18263,
			SNSTopic:             "arn:aws:sns:ap-northeast-1:111122223333:vigil-glacier",
		},
	}},
	"s3-object-created.json": {want: Notification{
		Kind:   KindS3Event,
		Source: SourceRaw,
		S3: []S3Record{{
			EventName:       "ObjectCreated:Put",
			EventTime:       ts("2026-11-20T03:14:15.926Z"),
			Region:          "ap-northeast-1",
			Bucket:          "example-inbox",
			Key:             "incoming/2026/11/20/report final(1).csv",
			Size:            1048576,
			ETag:            "d41d8cd98f00b204e9800998ecf8427e",
			VersionID:       "096fKKXTRTtl3on89fVO.nfljtsv6qko",
			Sequencer:       "0055AED6DCD90281E5",
			ConfigurationID: "vigil-incoming",
		}},
	}},
	"s3-object-created.sns.json": {want: Notification{
		Kind:     KindS3Event,
		Source:   SourceSNS,
		TopicARN: "arn:aws:sns:ap-northeast-1:111122223333:example-inbox-events",
		S3: []S3Record{{
			EventName:       "ObjectCreated:CompleteMultipartUpload",
			EventTime:       ts("2026-11-20T03:20:00.000Z"),
			Region:          "ap-northeast-1",
			Bucket:          "example-inbox",
			Key:             "incoming/big file.bin",
			Size:            73400320,
			ETag:            "0123456789abcdef0123456789abcdef-14",
			Sequencer:       "0055AED6DCD90281F0",
			ConfigurationID: "vigil-incoming",
		}},
	}},
	"s3-object-restore-completed.json": {want: Notification{
		Kind:   KindS3Event,
		Source: SourceRaw,
		S3: []S3Record{{
			EventName:           "ObjectRestore:Completed",
			EventTime:           ts("2026-11-21T09:00:00.000Z"),
			Region:              "ap-northeast-1",
			Bucket:              "example-archive",
			Key:                 "db/2025/full.tar.zst",
			Size:                734003200,
			ETag:                "5d41402abc4b2a76b9719d911017c592-88",
			Sequencer:           "0055AED6DCD90281E6",
			ConfigurationID:     "vigil-restore",
			RestoreExpiryTime:   ts("2026-11-28T00:00:00.000Z"),
			RestoreStorageClass: "DEEP_ARCHIVE",
		}},
	}},
	"s3-test-event.json": {want: Notification{
		Kind:   KindS3TestEvent,
		Source: SourceRaw,
		S3Test: &S3TestEvent{
			Bucket:    "example-inbox",
			Time:      ts("2026-11-20T03:00:00.000Z"),
			RequestID: "5582815E1AEA5ADF",
		},
	}},
	// Not a notification: a Datastore operation that ended up on a queue.
	"datastore-export-operation.json": {err: ErrUnrecognized},
}

func sampleFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(samplesDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples in %s: %v", samplesDir, err)
	}
	return files
}

func TestParseSamples(t *testing.T) {
	for _, path := range sampleFiles(t) {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			tc, ok := sampleWant[name]
			if !ok {
				t.Fatalf("no expectation for sample %s: add one to sampleWant", name)
			}
			body, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse(string(body))
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Parse error = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse =\n%s\nwant\n%s", dump(got), dump(tc.want))
			}
		})
	}
}

// TestSamplesMatchShared checks that testdata holds the design samples
// unchanged where the design folder sits next to the repository (the
// development checkout: ../shared/samples). A clone elsewhere has no such
// folder; the samples are tested by the parse tests above either way.
func TestSamplesMatchShared(t *testing.T) {
	shared := filepath.Join("..", "..", "..", "shared", "samples")
	files, _ := filepath.Glob(filepath.Join(shared, "*.json"))
	if len(files) == 0 {
		t.Skipf("no design samples at %s (not a development checkout): nothing to compare; the copies in %s are tested by the parse tests", shared, samplesDir)
	}
	for _, f := range files {
		want, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(samplesDir, filepath.Base(f)))
		if err != nil {
			t.Errorf("sample %s not copied to %s: %v", filepath.Base(f), samplesDir, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s", filepath.Join(samplesDir, filepath.Base(f)), f)
		}
	}
}

func dump(n Notification) string {
	var b strings.Builder
	b.WriteString(strings.Join([]string{string(n.Kind), n.Source, n.TopicARN}, " "))
	if n.Glacier != nil {
		b.WriteString("\n  glacier: " + sprint(*n.Glacier))
	}
	for _, r := range n.S3 {
		b.WriteString("\n  s3: " + sprint(r))
	}
	if n.S3Test != nil {
		b.WriteString("\n  test: " + sprint(*n.S3Test))
	}
	return b.String()
}
