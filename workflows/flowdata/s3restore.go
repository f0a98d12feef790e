package flowdata

import "time"

// S3RestoreState is what vigil knows of an object's restore.
type S3RestoreState struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	// VersionID is the object version the state is of, when known: the
	// s3.object.versionId of an ObjectRestore event from a versioned
	// bucket.
	VersionID string `json:"versionId,omitempty"`
	// Ongoing is true while the restore runs.
	Ongoing bool `json:"ongoing"`
	// Restored is true once a restored copy is readable.
	Restored bool `json:"restored"`
	// Expiry of the restored copy.
	Expiry time.Time `json:"expiry,omitzero"`
	// StorageClass of the object (GLACIER, DEEP_ARCHIVE, ...).
	StorageClass string `json:"storageClass,omitempty"`
	// Size of the object.
	Size int64 `json:"size,omitempty"`
	// NotArchived is true when the object is in an active tier already.
	NotArchived bool `json:"notArchived,omitempty"`
	// Source is "restore", "head" or "notification".
	Source string `json:"source,omitempty"`
}
