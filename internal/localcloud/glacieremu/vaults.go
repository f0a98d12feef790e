package glacieremu

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
)

// validVaultName follows Glacier's rules: 1-255 of a-z, A-Z, 0-9, '_', '-', '.'.
var validVaultName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,255}$`)

// CreateVault creates a vault unless it exists (as the API does: creating
// an existing vault succeeds).
func (s *Service) CreateVault(name string) error {
	if !validVaultName.MatchString(name) || name == "." || name == ".." {
		return errInvalid("vault name %q: use 1-255 of a-z, A-Z, 0-9, '_', '-', '.'", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.Vaults[name] == nil {
		s.st.Vaults[name] = &vault{Name: name, CreationDate: isoTime(s.now()), Archives: map[string]*archive{}}
		s.saveLocked()
	}
	return nil
}

func (s *Service) createVaultHTTP(w http.ResponseWriter, name string) error {
	if err := s.CreateVault(name); err != nil {
		return err
	}
	w.Header().Set("Location", "/"+s.opts.AccountID+"/vaults/"+name)
	w.WriteHeader(http.StatusCreated)
	return nil
}

// vaultLocked returns the vault or ResourceNotFoundException; s.mu is held.
func (s *Service) vaultLocked(name string) (*vault, error) {
	v := s.st.Vaults[name]
	if v == nil {
		return nil, errNotFound("Vault not found for ARN: %s", s.vaultARN(name))
	}
	return v, nil
}

// vaultDescription is DescribeVault's answer and a ListVaults item.
type vaultDescription struct {
	CreationDate      string  `json:"CreationDate"`
	LastInventoryDate *string `json:"LastInventoryDate"`
	NumberOfArchives  int     `json:"NumberOfArchives"`
	SizeInBytes       int64   `json:"SizeInBytes"`
	VaultARN          string  `json:"VaultARN"`
	VaultName         string  `json:"VaultName"`
}

func (s *Service) describeLocked(v *vault) vaultDescription {
	d := vaultDescription{CreationDate: v.CreationDate, NumberOfArchives: len(v.Archives), VaultARN: s.vaultARN(v.Name), VaultName: v.Name}
	for _, a := range v.Archives {
		d.SizeInBytes += a.Size
	}
	return d
}

func (s *Service) describeVault(w http.ResponseWriter, name string) error {
	s.mu.Lock()
	v, err := s.vaultLocked(name)
	var d vaultDescription
	if err == nil {
		d = s.describeLocked(v)
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Service) listVaults(w http.ResponseWriter, r *http.Request) error {
	limit, err := limitParam(r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	names := make([]string, 0, len(s.st.Vaults))
	for n := range s.st.Vaults {
		names = append(names, n)
	}
	slices.Sort(names)
	page, marker := pageAfter(names, r.URL.Query().Get("marker"), limit)
	out := struct {
		VaultList []vaultDescription `json:"VaultList"`
		Marker    *string            `json:"Marker"`
	}{VaultList: []vaultDescription{}, Marker: marker}
	for _, n := range page {
		out.VaultList = append(out.VaultList, s.describeLocked(s.st.Vaults[n]))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Service) deleteVault(w http.ResponseWriter, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.vaultLocked(name)
	if err != nil {
		return err
	}
	if len(v.Archives) > 0 {
		return errInvalid("Vault not empty or recently written to: %s", s.vaultARN(name))
	}
	delete(s.st.Vaults, name)
	s.saveLocked()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// limitParam reads the optional limit query parameter (1-1000, default 1000).
func limitParam(r *http.Request) (int, error) {
	l := r.URL.Query().Get("limit")
	if l == "" {
		return 1000, nil
	}
	n, err := strconv.Atoi(l)
	if err != nil || n < 1 || n > 1000 {
		return 0, errInvalid("limit %q: want 1-1000", l)
	}
	return n, nil
}

// pageAfter returns up to limit items after marker, and the marker of the
// next page (nil on the last).
func pageAfter(items []string, marker string, limit int) ([]string, *string) {
	start := 0
	if marker != "" {
		start = len(items)
		for i, it := range items {
			if it == marker {
				start = i + 1
				break
			}
		}
	}
	items = items[start:]
	if len(items) <= limit {
		return items, nil
	}
	next := items[limit-1]
	return items[:limit], &next
}
