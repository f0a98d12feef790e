package s3lite

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"time"
)

// DefaultTierDelays are the restore durations of tiers missing from
// Options.TierDelays.
var DefaultTierDelays = map[string]time.Duration{"Expedited": time.Second, "Standard": 5 * time.Second, "Bulk": 10 * time.Second}

// restoreState is one object's restore: in progress until ReadyAt, then
// a readable copy until Expiry.
type restoreState struct {
	Bucket  string    `json:"bucket"`
	Key     string    `json:"key"`
	Class   string    `json:"storageClass"`
	Tier    string    `json:"tier"`
	Days    int       `json:"days"`
	ReadyAt time.Time `json:"readyAt"`
	Done    bool      `json:"done"`
	Expiry  time.Time `json:"expiry,omitzero"`
}

// active reports whether the restore is in progress or its copy is
// still there.
func (r *restoreState) active(now time.Time) bool { return !r.Done || now.Before(r.Expiry) }

// restoreRequest is the RestoreRequest body.
type restoreRequest struct {
	Days                 int    `xml:"Days"`
	Tier                 string `xml:"Tier"`
	GlacierJobParameters struct {
		Tier string `xml:"Tier"`
	} `xml:"GlacierJobParameters"`
}

// objectRef keys an object in the state maps.
func objectRef(bucket, key string) string { return bucket + "/" + key }

// restoreExpiry is when a copy restored at now for days goes away: S3 adds
// the days and rounds up to the next midnight UTC.
func restoreExpiry(now time.Time, days int) time.Time {
	t := now.UTC().Add(time.Duration(days) * 24 * time.Hour)
	return t.Truncate(24 * time.Hour).Add(24 * time.Hour)
}

func (s *Service) tierDelay(tier string) time.Duration {
	if d, ok := s.opts.TierDelays[tier]; ok {
		return d
	}
	return DefaultTierDelays[tier]
}

// parseRestoreRequest reads the body: days and tier (default Standard).
func parseRestoreRequest(r *http.Request) (days int, tier string, err error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return 0, "", err
	}
	var in restoreRequest
	if len(body) > 0 {
		if err := xml.Unmarshal(body, &in); err != nil {
			return 0, "", errMalformedXML(err)
		}
	}
	tier = in.GlacierJobParameters.Tier
	if tier == "" {
		tier = in.Tier
	}
	if tier == "" {
		tier = "Standard"
	}
	if _, ok := DefaultTierDelays[tier]; !ok {
		return 0, "", errMalformedXML(fmt.Errorf("unknown tier %q", tier))
	}
	if in.Days < 1 {
		return 0, "", errInvalidArgument("Days must be a positive integer for a restore of an archived object")
	}
	return in.Days, tier, nil
}

// serveRestore serves RestoreObject: 202 for a new restore, 200 when the
// object is already restored (the copy's expiry is moved), 409 while one
// is in progress, 403 for an object that is not archived.
func (s *Service) serveRestore(w http.ResponseWriter, r *http.Request, bucket, key string) {
	status, err := s.restore(r, bucket, key)
	if err != nil {
		writeError(w, r, err)
		return
	}
	setRequestID(w)
	w.WriteHeader(status)
	if status == http.StatusAccepted {
		s.emitObject(bucket, key, "ObjectRestore:Post", requestInfoOf(r, w.Header()))
	}
}

func (s *Service) restore(r *http.Request, bucket, key string) (int, error) {
	if err := s.bucketExists(bucket); err != nil {
		return 0, err
	}
	days, tier, err := parseRestoreRequest(r)
	if err != nil {
		return 0, err
	}
	class, _, _, ok := s.storageClass(bucket, key)
	if !ok {
		return 0, errNoSuchKey(key)
	}
	if !archived(class) {
		return 0, newError(http.StatusForbidden, "ObjectAlreadyInActiveTierError",
			"Restore is not allowed for the object's current storage class")
	}
	ref := objectRef(bucket, key)
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.restores[ref]; st != nil && st.active(now) {
		if !st.Done {
			return 0, newError(http.StatusConflict, "RestoreAlreadyInProgress", "Object restore is already in progress")
		}
		st.Days, st.Expiry = days, restoreExpiry(now, days)
		s.saveLocked()
		return http.StatusOK, nil
	}
	st := &restoreState{Bucket: bucket, Key: key, Class: class, Tier: tier, Days: days, ReadyAt: now.Add(s.tierDelay(tier))}
	s.restores[ref] = st
	s.armLocked(ref, st, now)
	s.saveLocked()
	return http.StatusAccepted, nil
}

// armLocked starts the timer that completes a pending restore.
func (s *Service) armLocked(ref string, st *restoreState, now time.Time) {
	if s.closed {
		return
	}
	s.timers[ref] = time.AfterFunc(max(st.ReadyAt.Sub(now), 0), func() { s.complete(ref, st) })
}

// complete finishes a restore (unless it was replaced or the service
// closed) and emits ObjectRestore:Completed.
func (s *Service) complete(ref string, st *restoreState) {
	s.mu.Lock()
	if s.closed || s.restores[ref] != st || st.Done {
		s.mu.Unlock()
		return
	}
	now := time.Now()
	st.Done, st.Expiry = true, restoreExpiry(now, st.Days)
	// Copied under the lock: a new RestoreObject may extend the expiry.
	bucket, key, expiry, class := st.Bucket, st.Key, st.Expiry, st.Class
	delete(s.timers, ref)
	s.saveLocked()
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	_, size, etag, ok := s.storageClass(bucket, key)
	if !ok {
		return
	}
	s.emit(bucket, event{name: "ObjectRestore:Completed", key: key, size: &size, etag: etag,
		req:     requestInfo{sourceIP: "s3.amazonaws.com", requestID: fmt.Sprintf("%016X", now.UnixNano())},
		glacier: &glacierEventData{RestoreEventData: restoreEventData{ExpiryTime: eventTime(expiry), StorageClass: class}}})
}

// restored reports whether the object has a readable restored copy.
func (s *Service) restored(bucket, key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.restores[objectRef(bucket, key)]
	return st != nil && st.Done && time.Now().Before(st.Expiry)
}

// restoreHeader is the x-amz-restore value of an object, empty without an
// active restore.
func (s *Service) restoreHeader(bucket, key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.restores[objectRef(bucket, key)]
	switch {
	case st == nil || !st.active(time.Now()):
		return ""
	case !st.Done:
		return `ongoing-request="true"`
	}
	return fmt.Sprintf(`ongoing-request="false", expiry-date="%s"`, st.Expiry.UTC().Format(http.TimeFormat))
}

// forgetRestore drops the restore of an object that was overwritten or
// deleted.
func (s *Service) forgetRestore(bucket, key string) {
	ref := objectRef(bucket, key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.restores[ref]; !ok {
		return
	}
	s.dropRestoreLocked(ref)
	s.saveLocked()
}

// dropRestoreLocked forgets a restore and stops its timer.
func (s *Service) dropRestoreLocked(ref string) {
	if t := s.timers[ref]; t != nil {
		t.Stop()
		delete(s.timers, ref)
	}
	delete(s.restores, ref)
}
