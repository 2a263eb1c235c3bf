package diskenc

// Volume states.
const (
	StateEncrypted    = "encrypted"
	StateNotEncrypted = "not_encrypted"
	// StateInMemory is swap or a filesystem that never reaches a disk (zram).
	StateInMemory = "in_memory"
	StateUnknown  = "unknown"
	// StateProtectionOff is a BitLocker volume whose data is encrypted
	// but whose key is stored in the clear: protection suspended, or
	// device encryption waiting for activation.
	StateProtectionOff = "protection_off"
	// StateEncrypting is a volume whose encryption has started but not
	// finished (or is paused).
	StateEncrypting = "encrypting"
)

// Facts is what the collector saw.
type Facts struct {
	// Source lists the files the facts were read from.
	Source  string   `json:"source"`
	Volumes []Volume `json:"volumes"`
	// Notes explains sources that could not be read and volumes that
	// were not required (removable drives).
	Notes []string `json:"notes,omitempty"`
}

// Volume is one filesystem or swap area that must be encrypted.
type Volume struct {
	// Role is "root", "home" or "swap" on Linux; "os" or "data" (fixed
	// data volume) on Windows; "data" (the APFS Data volume) or "root" on
	// macOS.
	Role       string `json:"role"`
	MountPoint string `json:"mount_point,omitempty"`
	// Source is the device or file as mountinfo or /proc/swaps names it.
	Source string `json:"source"`
	FSType string `json:"fs_type,omitempty"`
	// Chain is the block devices from the top (what is mounted) down to
	// the disks, e.g. dm-1 (LVM) -> dm-0 (crypt) -> nvme0n1p3.
	Chain []Device `json:"chain,omitempty"`
	State string   `json:"state"`
	// Encryption is the dm-crypt type (LUKS1, LUKS2, PLAIN...) when known.
	Encryption string `json:"encryption,omitempty"`
	// Reason explains an unknown or not_encrypted state.
	Reason string `json:"reason,omitempty"`
	// Protection, Conversion and PercentEncrypted are BitLocker's and
	// FileVault's own words for the volume, with StateSource naming where
	// the state came from and what confirmed it.
	Protection       string   `json:"protection,omitempty"`
	Conversion       string   `json:"conversion,omitempty"`
	PercentEncrypted *float64 `json:"percent_encrypted,omitempty"`
	StateSource      string   `json:"state_source,omitempty"`
}

// Device is one block device in a chain.
type Device struct {
	Name string `json:"name"`
	// Kind is crypt, lvm, md, dm, partition, disk, zram or loop.
	Kind string `json:"kind"`
	// DMName is the device-mapper name (e.g. luks-3f2a...), if any.
	DMName string `json:"dm_name,omitempty"`
	// Encryption is the dm-crypt type for a crypt device.
	Encryption string `json:"encryption,omitempty"`
}
