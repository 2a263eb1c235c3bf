// Package diskenc is the `disk_encryption` control (Policy 550.04
// C.7.a.xii): the system and data volumes are encrypted.
//
// On Linux it checks the filesystems of /, /home (when a separate mount)
// and every active swap: it finds each one's block device in
// /proc/self/mountinfo and /proc/swaps, walks down through device-mapper,
// LVM and md (/sys/class/block/<dev>/slaves) and looks for a dm-crypt
// layer (/sys/class/block/dm-N/dm/uuid starting with CRYPT-). Swap on zram
// never reaches a disk and passes; a container's overlay or tmpfs root
// cannot be judged and is unknown. Windows (BitLocker) and macOS
// (FileVault) collectors are not written yet and report unknown.
// Collectors are portable, chosen by the host's GOOS.
package diskenc
