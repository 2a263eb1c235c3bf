// Package diskenc is the `disk_encryption` control (Policy 550.04
// C.7.a.xii): the system and data volumes are encrypted.
//
// On Linux it checks the filesystems of /, /home (when a separate mount)
// and every active swap: it finds each one's block device in
// /proc/self/mountinfo and /proc/swaps, walks down through device-mapper,
// LVM and md (/sys/class/block/<dev>/slaves) and looks for a dm-crypt
// layer (/sys/class/block/dm-N/dm/uuid starting with CRYPT-). When sysfs
// cannot be read, `lsblk -J` (MOUNTPOINTS, or MOUNTPOINT on util-linux
// before 2.37) gives the same tree. Swap on zram never reaches a disk and
// passes; a container's overlay or tmpfs root cannot be judged and is
// unknown.
//
// On Windows BitLocker protection must be on (not merely "encrypted,
// suspended") for the OS volume and every fixed data volume with a drive
// letter; removable drives are not required. Win32_EncryptableVolume is
// the structured source and manage-bde -status (any language, UTF-16 or
// the console code page) confirms it, since WMI's ProtectionStatus can be
// cached; manage-bde alone decides when WMI cannot be read. Device
// encryption on Home editions is BitLocker and is read the same way.
//
// On macOS FileVault must be on for the startup disk's APFS Data volume
// (`diskutil apfs list -plist`, the startup container from `diskutil info
// -plist /`), confirmed by `fdesetup status`, which also tells encryption
// still in progress. Collectors are portable, chosen by the host's GOOS.
package diskenc
