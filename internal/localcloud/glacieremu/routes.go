package glacieremu

import (
	"net/http"
	"strings"
)

// ServeHTTP routes /{accountId}/vaults/... to the operations.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Amzn-RequestId", newRequestID())
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 2 || parts[1] != "vaults" {
		s.writeError(w, r, errInvalid("unsupported path %s", r.URL.Path))
		return
	}
	parts = parts[2:] // after /{accountId}/vaults
	if err := s.route(w, r, parts); err != nil {
		s.writeError(w, r, err)
	}
}

// route dispatches on the path below /vaults and the method.
func (s *Service) route(w http.ResponseWriter, r *http.Request, p []string) error {
	m := r.Method
	switch {
	case len(p) == 0 && m == http.MethodGet:
		return s.listVaults(w, r)
	case len(p) == 1 && m == http.MethodPut:
		return s.createVaultHTTP(w, p[0])
	case len(p) == 1 && m == http.MethodGet:
		return s.describeVault(w, p[0])
	case len(p) == 1 && m == http.MethodDelete:
		return s.deleteVault(w, p[0])
	case len(p) == 2 && p[1] == "archives" && m == http.MethodPost:
		return s.uploadArchive(w, r, p[0])
	case len(p) == 3 && p[1] == "archives" && m == http.MethodDelete:
		return s.deleteArchive(w, p[0], p[2])
	case len(p) == 2 && p[1] == "multipart-uploads" && m == http.MethodPost:
		return s.initiateUpload(w, r, p[0])
	case len(p) == 3 && p[1] == "multipart-uploads" && m == http.MethodPut:
		return s.uploadPart(w, r, p[0], p[2])
	case len(p) == 3 && p[1] == "multipart-uploads" && m == http.MethodPost:
		return s.completeUpload(w, r, p[0], p[2])
	case len(p) == 3 && p[1] == "multipart-uploads" && m == http.MethodDelete:
		return s.abortUpload(w, p[0], p[2])
	case len(p) == 2 && p[1] == "jobs" && m == http.MethodPost:
		return s.initiateJob(w, r, p[0])
	case len(p) == 2 && p[1] == "jobs" && m == http.MethodGet:
		return s.listJobs(w, r, p[0])
	case len(p) == 3 && p[1] == "jobs" && m == http.MethodGet:
		return s.describeJob(w, p[0], p[2])
	case len(p) == 4 && p[1] == "jobs" && p[3] == "output" && m == http.MethodGet:
		return s.getJobOutput(w, r, p[0], p[2])
	case len(p) == 2 && p[1] == "notification-configuration":
		return s.notifications(w, r, p[0])
	}
	return errInvalid("unsupported operation %s %s", m, r.URL.Path)
}
