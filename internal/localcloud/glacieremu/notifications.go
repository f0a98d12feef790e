package glacieremu

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
)

// notificationEvents are the events a vault can notify.
var notificationEvents = []string{"ArchiveRetrievalCompleted", "InventoryRetrievalCompleted"}

// notifications serves Set/Get/DeleteVaultNotifications.
func (s *Service) notifications(w http.ResponseWriter, r *http.Request, vaultName string) error {
	var cfg notificationConfig
	if r.Method == http.MethodPut {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			return err
		}
		if err := json.Unmarshal(body, &cfg); err != nil {
			return errInvalid("vault notification configuration: %v", err)
		}
		if cfg.SNSTopic == "" {
			return errMissing("SNSTopic is required")
		}
		for _, e := range cfg.Events {
			if !slices.Contains(notificationEvents, e) {
				return errInvalid("Invalid event %q (ArchiveRetrievalCompleted, InventoryRetrievalCompleted)", e)
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.vaultLocked(vaultName)
	if err != nil {
		return err
	}
	switch r.Method {
	case http.MethodPut:
		v.Notifications = &cfg
		s.saveLocked()
		w.WriteHeader(http.StatusNoContent)
	case http.MethodGet:
		if v.Notifications == nil {
			return errNotFound("No notification configuration is set for vault: %s", vaultName)
		}
		writeJSON(w, http.StatusOK, v.Notifications)
	case http.MethodDelete:
		v.Notifications = nil
		s.saveLocked()
		w.WriteHeader(http.StatusNoContent)
	default:
		return errInvalid("unsupported method %s", r.Method)
	}
	return nil
}

// SetVaultNotifications configures a vault's notifications in process
// (fixtures use it).
func (s *Service) SetVaultNotifications(vaultName, topicARN string, events ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.vaultLocked(vaultName)
	if err != nil {
		return err
	}
	v.Notifications = &notificationConfig{SNSTopic: topicARN, Events: events}
	s.saveLocked()
	return nil
}
