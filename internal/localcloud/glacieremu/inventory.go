package glacieremu

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
)

// inventoryItem is one archive in a vault inventory.
type inventoryItem struct {
	ArchiveID          string `json:"ArchiveId"`
	ArchiveDescription string `json:"ArchiveDescription"`
	CreationDate       string `json:"CreationDate"`
	Size               int64  `json:"Size"`
	SHA256TreeHash     string `json:"SHA256TreeHash"`
}

// inventoryPath is where an inventory job's output is kept.
func (s *Service) inventoryPath(jobID string) string {
	return filepath.Join(s.dir, "inventories", jobID)
}

// writeInventoryLocked writes the vault's inventory as the job's output,
// in the job's format, and returns its size.
func (s *Service) writeInventoryLocked(j *job) (int64, error) {
	v := s.st.Vaults[j.Vault]
	if v == nil {
		return 0, os.ErrNotExist
	}
	items := make([]inventoryItem, 0, len(v.ArchiveOrder))
	for _, id := range v.ArchiveOrder {
		a := v.Archives[id]
		items = append(items, inventoryItem{ArchiveID: a.ID, ArchiveDescription: a.Description, CreationDate: a.CreationDate, Size: a.Size, SHA256TreeHash: a.TreeHash})
	}
	if err := os.MkdirAll(filepath.Dir(s.inventoryPath(j.Desc.JobID)), 0o755); err != nil {
		return 0, err
	}
	f, err := os.Create(s.inventoryPath(j.Desc.JobID))
	if err != nil {
		return 0, err
	}
	if j.Desc.InventoryRetrievalParameters.Format == "CSV" {
		cw := csv.NewWriter(f)
		_ = cw.Write([]string{"ArchiveId", "ArchiveDescription", "CreationDate", "Size", "SHA256TreeHash"})
		for _, it := range items {
			_ = cw.Write([]string{it.ArchiveID, it.ArchiveDescription, it.CreationDate, strconv.FormatInt(it.Size, 10), it.SHA256TreeHash})
		}
		cw.Flush()
		err = cw.Error()
	} else {
		err = json.NewEncoder(f).Encode(struct {
			VaultARN      string          `json:"VaultARN"`
			InventoryDate string          `json:"InventoryDate"`
			ArchiveList   []inventoryItem `json:"ArchiveList"`
		}{s.vaultARN(v.Name), isoTime(s.now()), items})
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	fi, err := os.Stat(s.inventoryPath(j.Desc.JobID))
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}
