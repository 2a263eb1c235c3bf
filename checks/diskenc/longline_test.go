package diskenc

import (
	"testing"

	"github.com/postern-dev/postern/checks/internal/checktest"
)

// A mount whose options or source make its line longer than any scanner
// buffer must not hide the mounts after it: the parser used to stop there.
func TestLongMountinfoLineDoesNotHideLaterMounts(t *testing.T) {
	in := "30 1 0:40 / /mnt/x rw - fuse " + checktest.LongLine("") + " rw\n" +
		"22 1 253:1 / / rw,relatime shared:1 - ext4 /dev/mapper/root rw\n"
	m, ok := lastMount(parseMountinfo([]byte(in)), "/")
	if !ok || m.devID != "253:1" || m.source != "/dev/mapper/root" {
		t.Errorf("root mount %+v, %t; want 253:1 from /dev/mapper/root", m, ok)
	}
}
