package antivirus

import (
	"testing"

	"github.com/postern-dev/postern/checks/internal/checktest"
)

// A line longer than any scanner buffer must not hide the lines after
// it: the parsers used to stop there.
func TestLongLinesDoNotHideLaterLines(t *testing.T) {
	long := checktest.LongLine("# ")
	t.Run("systemctl's state after a long line is counted", func(t *testing.T) {
		m := parseIsActive([]byte("inactive\n"+long+"\nactive\n"), []string{"a", "b", "c"})
		if m["c"] != "active" {
			t.Errorf("states %q, want c active", m)
		}
	})
	t.Run("a falconctl key after a long line is read", func(t *testing.T) {
		if m := parseKeyValues([]byte(long + "\nrfm-state=false.\n")); m["rfm-state"] != "false" {
			t.Errorf("rfm-state = %q, want false", m["rfm-state"])
		}
	})
	t.Run("a clamscan job after a long comment is found", func(t *testing.T) {
		if !mentionsScanner([]byte(long + "\n0 3 * * * /usr/bin/clamscan -r /home\n")) {
			t.Error("clamscan not found")
		}
	})
}
