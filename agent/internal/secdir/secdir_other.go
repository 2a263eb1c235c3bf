//go:build !windows

package secdir

// Restrict does nothing on Unix: the callers' file modes restrict access.
func Restrict(path string, usersRead bool) error { return nil }
