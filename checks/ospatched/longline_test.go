package ospatched

import (
	"testing"
	"time"

	"github.com/postern-dev/postern/checks/internal/checktest"
)

// A line longer than any scanner buffer (apt history's Upgrade: line of
// a large upgrade is one) must not hide the lines after it: the parsers
// used to stop there, dropping pending updates and the last patch date.
func TestLongLinesDoNotHideLaterLines(t *testing.T) {
	long := checktest.LongLine("Conf ")
	t.Run("an apt Inst line after a long line is counted", func(t *testing.T) {
		p := parseAptSimulation([]byte(long + "\nInst libssl3 [3.0.11-1~deb12u2] (3.0.15-1~deb12u1 Debian-Security:12/stable-security [amd64])\n"))
		if p.total != 1 || len(p.security) != 1 || p.security[0].Name != "libssl3" {
			t.Errorf("plan %+v, want one security update of libssl3", p)
		}
	})
	t.Run("a softwareupdate label after a long line is listed", func(t *testing.T) {
		us := parseSoftwareUpdateList([]byte(long + "\n* Label: Safari18.5-18.5\n\tTitle: Safari, Version: 18.5, Size: 1K, Recommended: YES, \n"))
		if len(us) != 1 || us[0].Title != "Safari" || !us[0].Recommended {
			t.Errorf("updates %+v, want Safari recommended", us)
		}
	})
	t.Run("a dnf advisory after a long line is listed", func(t *testing.T) {
		us := parseDnfSecurity([]byte(long + "\nFEDORA-2024-1 Important/Sec. openssl-3.2.2-1.fc40.x86_64\n"))
		if len(us) != 1 || us[0].Name != "openssl-3.2.2-1.fc40.x86_64" {
			t.Errorf("updates %+v, want openssl", us)
		}
	})
	t.Run("zypper's message is cut at its first line", func(t *testing.T) {
		if got := firstLine(" \nRepository 'x' is invalid.\r\n" + long); got != "Repository 'x' is invalid." {
			t.Errorf("firstLine = %q", got)
		}
	})
	dated := []struct {
		name  string
		parse func([]byte) (time.Time, bool)
		in    string
		want  time.Time
	}{
		{"a dpkg upgrade after a long line is dated", lastDpkgUpgrade,
			long + "\n2024-05-01 10:00:00 upgrade libssl3:amd64 3.0.11 3.0.15\n", time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)},
		{"an apt history entry with a long Upgrade line is dated", lastAptHistoryUpgrade,
			"Start-Date: 2024-05-01  10:00:00\nCommandline: apt full-upgrade\n" + checktest.LongLine("Upgrade: ") + "\nEnd-Date: 2024-05-01  10:05:00\n", time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)},
		{"a zypp patch after a long line is dated", lastZyppPatch,
			long + "\n2026-10-02 14:22:18|patch  |openSUSE-2026-1|1|noarch|repo-update|important|security|needed|applied|\n", time.Date(2026, 10, 2, 14, 22, 18, 0, time.UTC)},
	}
	for _, tt := range dated {
		t.Run(tt.name, func(t *testing.T) {
			if got, ok := tt.parse([]byte(tt.in)); !ok || !got.Equal(tt.want) {
				t.Errorf("got %v, %t; want %v", got, ok, tt.want)
			}
		})
	}
}
