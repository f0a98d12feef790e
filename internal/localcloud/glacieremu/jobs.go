package glacieremu

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/vigilops/vigil/internal/treehash"
)

// jobDescription is a job as DescribeJob, ListJobs and the completion
// notification show it (field order as in Glacier's notifications; null
// where Glacier sends null).
type jobDescription struct {
	Action                       string               `json:"Action"`
	ArchiveID                    *string              `json:"ArchiveId"`
	ArchiveSizeInBytes           *int64               `json:"ArchiveSizeInBytes"`
	ArchiveSHA256TreeHash        *string              `json:"ArchiveSHA256TreeHash,omitempty"`
	Completed                    bool                 `json:"Completed"`
	CompletionDate               *string              `json:"CompletionDate"`
	CreationDate                 string               `json:"CreationDate"`
	InventoryRetrievalParameters *inventoryParameters `json:"InventoryRetrievalParameters,omitempty"`
	InventorySizeInBytes         *int64               `json:"InventorySizeInBytes"`
	JobDescription               *string              `json:"JobDescription"`
	JobID                        string               `json:"JobId"`
	RetrievalByteRange           *string              `json:"RetrievalByteRange"`
	SHA256TreeHash               *string              `json:"SHA256TreeHash"`
	SNSTopic                     *string              `json:"SNSTopic"`
	StatusCode                   string               `json:"StatusCode"`
	StatusMessage                *string              `json:"StatusMessage"`
	Tier                         *string              `json:"Tier"`
	VaultARN                     string               `json:"VaultARN"`
}

// inventoryParameters are an inventory job's parameters.
type inventoryParameters struct {
	EndDate   *string `json:"EndDate"`
	Format    string  `json:"Format"`
	Limit     *string `json:"Limit"`
	Marker    *string `json:"Marker"`
	StartDate *string `json:"StartDate"`
}

// job is a retrieval job: its public description and what the emulator
// needs to complete it and serve its output.
type job struct {
	Desc  jobDescription `json:"desc"`
	Vault string         `json:"vault"`
	// CompleteAt is when the job succeeds (timers are re-armed from it).
	CompleteAt time.Time `json:"completeAt"`
	// ExpiresAt is when the output stops being available.
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
	// Start and Size locate an archive-retrieval's output in the archive.
	Start int64 `json:"start"`
	Size  int64 `json:"size"`
}

// jobParameters is InitiateJob's body.
type jobParameters struct {
	Type                         string
	ArchiveID                    string `json:"ArchiveId"`
	Description                  string
	Format                       string
	RetrievalByteRange           string
	SNSTopic                     string
	Tier                         string
	InventoryRetrievalParameters *struct{ StartDate, EndDate, Limit, Marker string }
}

var tiers = []string{"Expedited", "Standard", "Bulk"}

func (s *Service) initiateJob(w http.ResponseWriter, r *http.Request, vaultName string) error {
	var p jobParameters
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return errInvalid("job parameters: %v", err)
	}
	if p.Tier == "" {
		p.Tier = "Standard"
	}
	if !slices.Contains(tiers, p.Tier) {
		return errInvalid("Invalid tier: %q (Expedited, Standard or Bulk)", p.Tier)
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.vaultLocked(vaultName)
	if err != nil {
		return err
	}
	j := &job{Vault: vaultName, CompleteAt: now.Add(s.tierDelay(p.Tier)), Desc: jobDescription{
		JobID: newID(92), CreationDate: isoTime(now), StatusCode: "InProgress", VaultARN: s.vaultARN(vaultName),
		JobDescription: optional(p.Description), SNSTopic: optional(p.SNSTopic), Tier: optional(p.Tier)}}
	switch p.Type {
	case "archive-retrieval":
		if err := s.archiveJobLocked(j, v, p); err != nil {
			return err
		}
	case "inventory-retrieval":
		if p.Format == "" {
			p.Format = "JSON"
		}
		if p.Format != "JSON" && p.Format != "CSV" {
			return errInvalid("Invalid inventory format: %q (JSON or CSV)", p.Format)
		}
		j.Desc.Action = "InventoryRetrieval"
		j.Desc.InventoryRetrievalParameters = &inventoryParameters{Format: p.Format}
		j.Desc.Tier = nil
	case "":
		return errMissing("Job type is required (archive-retrieval or inventory-retrieval)")
	default:
		return errInvalid("Invalid job type: %q", p.Type)
	}
	s.pruneLocked(now)
	s.st.Jobs[j.Desc.JobID] = j
	s.st.JobOrder = append(s.st.JobOrder, j.Desc.JobID)
	s.armLocked(j)
	s.saveLocked()
	w.Header().Set("X-Amz-Job-Id", j.Desc.JobID)
	w.Header().Set("Location", "/"+s.opts.AccountID+"/vaults/"+vaultName+"/jobs/"+j.Desc.JobID)
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// archiveJobLocked fills in an archive retrieval, checking the archive and
// the byte range (megabyte aligned, as Glacier requires).
func (s *Service) archiveJobLocked(j *job, v *vault, p jobParameters) error {
	a := v.Archives[p.ArchiveID]
	if a == nil {
		return errNotFound("Archive not found: %s", p.ArchiveID)
	}
	j.Desc.Action = "ArchiveRetrieval"
	j.Desc.ArchiveID = &a.ID
	j.Desc.ArchiveSizeInBytes = &a.Size
	j.Desc.ArchiveSHA256TreeHash = &a.TreeHash
	j.Start, j.Size = 0, a.Size
	if p.RetrievalByteRange != "" {
		var start, end int64
		if _, err := fmt.Sscanf(p.RetrievalByteRange, "%d-%d", &start, &end); err != nil || start < 0 || end < start || end >= a.Size {
			return errInvalid("Invalid RetrievalByteRange %q for an archive of %d bytes", p.RetrievalByteRange, a.Size)
		}
		if start%(1<<20) != 0 || ((end+1)%(1<<20) != 0 && end != a.Size-1) {
			return errInvalid("RetrievalByteRange %q is not megabyte aligned", p.RetrievalByteRange)
		}
		j.Start, j.Size = start, end-start+1
	}
	rng := fmt.Sprintf("%d-%d", j.Start, j.Start+j.Size-1)
	j.Desc.RetrievalByteRange = &rng
	return nil
}

// armLocked schedules the job's completion; s.mu is held.
func (s *Service) armLocked(j *job) {
	if s.closed {
		return
	}
	id := j.Desc.JobID
	s.timers[id] = time.AfterFunc(time.Until(j.CompleteAt), func() { s.complete(id) })
}

// complete marks a job succeeded and sends its notifications.
func (s *Service) complete(id string) {
	s.mu.Lock()
	delete(s.timers, id)
	j := s.st.Jobs[id]
	if j == nil || j.Desc.Completed || s.closed {
		s.mu.Unlock()
		return
	}
	if err := s.finishLocked(j); err != nil {
		msg := err.Error()
		j.Desc.StatusCode, j.Desc.StatusMessage = "Failed", &msg
	}
	now := s.now()
	j.Desc.Completed = true
	j.Desc.CompletionDate = optional(isoTime(now))
	j.ExpiresAt = now.Add(s.opts.OutputTTL)
	s.saveLocked()
	msg, _ := json.Marshal(j.Desc)
	topics := s.topicsLocked(j)
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	for _, t := range topics {
		if s.opts.Topics == nil {
			break
		}
		if _, err := s.opts.Topics.Publish(t, "", string(msg)); err != nil {
			s.log.Warn("glacier: job notification not delivered", "job", id, "topic", t, "error", err)
		}
	}
}

// finishLocked computes the output's hashes (and writes an inventory).
func (s *Service) finishLocked(j *job) error {
	if j.Desc.Action == "InventoryRetrieval" {
		size, err := s.writeInventoryLocked(j)
		if err != nil {
			return err
		}
		j.Desc.InventorySizeInBytes = &size
	} else {
		v := s.st.Vaults[j.Vault]
		if v == nil || v.Archives[*j.Desc.ArchiveID] == nil {
			return fmt.Errorf("archive %s was deleted during the retrieval", *j.Desc.ArchiveID)
		}
		a, end := v.Archives[*j.Desc.ArchiveID], j.Start+j.Size-1
		if h, ok := leafTreeHash(a, j.Start, end); ok && treehash.Aligned(j.Start, end, a.Size) {
			j.Desc.SHA256TreeHash = &h
		}
	}
	j.Desc.StatusCode, j.Desc.StatusMessage = "Succeeded", optional("Succeeded")
	return nil
}

// topicsLocked lists the topics to notify of a completed job: the job's
// own topic and the vault's, if it subscribes to the event.
func (s *Service) topicsLocked(j *job) []string {
	var out []string
	if j.Desc.SNSTopic != nil {
		out = append(out, *j.Desc.SNSTopic)
	}
	event := "ArchiveRetrievalCompleted"
	if j.Desc.Action == "InventoryRetrieval" {
		event = "InventoryRetrievalCompleted"
	}
	if v := s.st.Vaults[j.Vault]; v != nil && v.Notifications != nil && slices.Contains(v.Notifications.Events, event) &&
		!slices.Contains(out, v.Notifications.SNSTopic) {
		out = append(out, v.Notifications.SNSTopic)
	}
	return out
}

// jobLocked returns a job of the vault whose output has not expired.
func (s *Service) jobLocked(vaultName, id string) (*job, error) {
	if _, err := s.vaultLocked(vaultName); err != nil {
		return nil, err
	}
	j := s.st.Jobs[id]
	if j == nil || j.Vault != vaultName || (!j.ExpiresAt.IsZero() && !s.now().Before(j.ExpiresAt)) {
		return nil, errNotFound("The job ID was not found: %s", id)
	}
	return j, nil
}

func (s *Service) describeJob(w http.ResponseWriter, vaultName, id string) error {
	s.mu.Lock()
	j, err := s.jobLocked(vaultName, id)
	var d jobDescription
	if err == nil {
		d = j.Desc
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Service) listJobs(w http.ResponseWriter, r *http.Request, vaultName string) error {
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.vaultLocked(vaultName); err != nil {
		return err
	}
	var ids []string
	for _, id := range s.st.JobOrder {
		j, err := s.jobLocked(vaultName, id)
		if err != nil {
			continue
		}
		if c := q.Get("completed"); c != "" && (c == "true") != j.Desc.Completed {
			continue
		}
		if sc := q.Get("statuscode"); sc != "" && sc != j.Desc.StatusCode {
			continue
		}
		ids = append(ids, id)
	}
	page, marker := pageAfter(ids, q.Get("marker"), limit)
	out := struct {
		JobList []jobDescription `json:"JobList"`
		Marker  *string          `json:"Marker"`
	}{JobList: []jobDescription{}, Marker: marker}
	for _, id := range page {
		out.JobList = append(out.JobList, s.st.Jobs[id].Desc)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// optional is nil for "", else a pointer to s.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// pruneLocked forgets jobs whose output expired, so the state stays small.
func (s *Service) pruneLocked(now time.Time) {
	kept := s.st.JobOrder[:0]
	for _, id := range s.st.JobOrder {
		j := s.st.Jobs[id]
		if j != nil && !j.ExpiresAt.IsZero() && !now.Before(j.ExpiresAt) {
			delete(s.st.Jobs, id)
			delete(s.calls, id)
			_ = os.Remove(s.inventoryPath(id))
			continue
		}
		kept = append(kept, id)
	}
	s.st.JobOrder = kept
}
