//go:build !linux

package serve

import "testing"

func mountTmpfs(t *testing.T, _ int) string {
	t.Skip("the disk-full test mounts a Linux tmpfs")
	return ""
}
