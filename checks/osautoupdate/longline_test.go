package osautoupdate

import (
	"testing"

	"github.com/postern-dev/postern/checks/internal/checktest"
)

// A line longer than any scanner buffer must not hide the settings after
// it: the parsers used to stop there.
func TestLongLinesDoNotHideLaterSettings(t *testing.T) {
	long := checktest.LongLine("# ")
	t.Run("dnf-automatic's apply_updates after a long comment is read", func(t *testing.T) {
		ini := parseINI([]byte("[commands]\n" + long + "\napply_updates = yes\n"))
		if got := ini["commands"]["apply_updates"]; got != "yes" {
			t.Errorf("apply_updates = %q, want yes", got)
		}
	})
	t.Run("a sysconfig key after a long comment is read", func(t *testing.T) {
		if got := parseSysconfig([]byte(long + "\nAUTO_UPDATE=\"yes\"\n"))["AUTO_UPDATE"]; got != "yes" {
			t.Errorf("AUTO_UPDATE = %q, want yes", got)
		}
	})
	t.Run("an APT::Periodic key after a long dump line is kept", func(t *testing.T) {
		dump := checktest.LongLine(`DPkg::Pre-Invoke:: "`) + "\";\nAPT::Periodic::Unattended-Upgrade \"1\";\n"
		if got := parseAptConfigDump([]byte(dump))["APT::Periodic::Unattended-Upgrade"]; got != "1" {
			t.Errorf("Unattended-Upgrade = %q, want 1", got)
		}
	})
}
