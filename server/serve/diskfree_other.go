//go:build !(linux || darwin || freebsd || openbsd || netbsd || windows)

package serve

// diskFree is not known here; readiness then rests on the commit probe.
func diskFree(string) (uint64, error) { return 0, errDiskFreeUnknown }
