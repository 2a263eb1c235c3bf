package screenlock

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// plasmaSession adds the user's logind scope with a display-manager
// helper and a startplasma process whose environment names env's
// XDG_CONFIG_DIRS, plus a variable the collector must not keep.
func plasmaSession(h *host.Fake, configDirs string) *host.Fake {
	return h.AddFile("/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope/cgroup.procs", []byte("1523\n1600\n")).
		AddFile("/proc/1523/comm", []byte("sddm-helper\n")).
		AddFile("/proc/1600/comm", []byte("startplasma-x11\n")).
		AddFile("/proc/1600/environ", []byte("HOME=/home/alice\x00XDG_CONFIG_DIRS="+configDirs+"\x00API_TOKEN=hunter2\x00"))
}

func TestCollectLinuxLockOnResume(t *testing.T) {
	kde := func() *host.Fake { return linuxSession(t, "logind-session__kde_x11.txt") }
	ubuntu := func() *host.Fake {
		return linuxSession(t, "logind-session__gnome_wayland.txt").
			AddFile("/run/systemd/sessions/2", []byte(strings.Replace(string(checktest.Testdata(t, "linux", "logind-session__gnome_wayland.txt")), "DESKTOP=gnome", "DESKTOP=ubuntu", 1)))
	}
	kubuntuDirs := "/etc/xdg/xdg-plasma:/etc/xdg:/usr/share/kubuntu-default-settings/kf5-settings"
	tests := []struct {
		name        string
		host        *host.Fake
		wantStatus  checks.Status
		wantSummary string
		wantLock    any
	}{
		{"an Ubuntu session that does not lock on suspend fails despite a 5 minute idle lock",
			ubuntu().
				AddFile("/etc/dconf/profile/user", checktest.Testdata(t, "linux", "dconf-profile__user_local.txt")).
				AddGlob("/etc/dconf/db/local.d/*", []string{"/etc/dconf/db/local.d/00-suspend"}, nil).
				AddFile("/etc/dconf/db/local.d/00-suspend", checktest.Testdata(t, "linux", "dconf-keyfile__no_lock_on_suspend.txt")),
			checks.StatusFail, "but waking from suspend does not ask for it: " + keyLockSuspend + " is false", 300},
		{"GNOME with the lock turned off says it does not lock on suspend either",
			linuxSession(t, "logind-session__gnome_wayland.txt").AddFile(aliceHome+"/.config/dconf/user", checktest.Testdata(t, "linux", "dconf-user__lock_disabled.gvdb")),
			checks.StatusFail, "; and waking from suspend does not ask for the password: " + keyLockEnabled + " is false", "never"},
		{"KDE with LockOnResume off fails despite the default 5 minute lock",
			kde().AddFile(aliceHome+"/.config/kscreenlockerrc", checktest.Testdata(t, "linux", "kscreenlockerrc__no_lock_on_resume.txt")),
			checks.StatusFail, "LockOnResume is false", 305},
		{"an immutable file in the session's last XDG_CONFIG_DIRS entry beats the user's",
			plasmaSession(kde(), kubuntuDirs).
				AddFile("/usr/share/kubuntu-default-settings/kf5-settings/kscreenlockerrc", checktest.Testdata(t, "linux", "kscreenlockerrc__system_immutable_crlf.txt")).
				AddFile(aliceHome+"/.config/kscreenlockerrc", checktest.Testdata(t, "linux", "kscreenlockerrc__autolock_off_chasinglogic.txt")),
			checks.StatusPass, "10 min idle", 600},
		{"a session whose XDG_CONFIG_DIRS leaves out /etc/xdg does not read it, as KConfig does not",
			plasmaSession(kde(), "/etc/xdg/xdg-plasma").
				AddFile("/etc/xdg/kscreenlockerrc", checktest.Testdata(t, "linux", "kscreenlockerrc__system_immutable_crlf.txt")).
				AddFile(aliceHome+"/.config/kscreenlockerrc", checktest.Testdata(t, "linux", "kscreenlockerrc__autolock_off_chasinglogic.txt")),
			checks.StatusFail, "never locks", "never"},
		{"Plasma's kdedefaults applies under the user's own file",
			kde().AddFile(aliceHome+"/.config/kdedefaults/kscreenlockerrc", checktest.Testdata(t, "linux", "kscreenlockerrc__timeout_30.txt")),
			checks.StatusFail, "30 min 10 s idle", 1810},
		{"the user's own file outranks kdedefaults key by key",
			kde().AddFile(aliceHome+"/.config/kdedefaults/kscreenlockerrc", checktest.Testdata(t, "linux", "kscreenlockerrc__timeout_30.txt")).
				AddFile(aliceHome+"/.config/kscreenlockerrc", checktest.Testdata(t, "linux", "kscreenlockerrc__timeout_10.txt")),
			checks.StatusPass, "10 min 10 s idle", 610},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, f := collectAndEvaluate(t, tc.host)
			if res.Status != tc.wantStatus || !strings.Contains(res.Summary, tc.wantSummary) {
				t.Errorf("got %s %q, want %s containing %q; settings %+v", res.Status, res.Summary, tc.wantStatus, tc.wantSummary, f.Settings)
			}
			if diff := cmp.Diff(tc.wantLock, res.Evidence["effective_lock_seconds"]); diff != "" {
				t.Errorf("effective_lock_seconds (-want +got):\n%s", diff)
			}
			if res.Status == checks.StatusFail && strings.Contains(res.Summary, "suspend") && !strings.Contains(res.Remediation, "on Suspend") && !strings.Contains(res.Remediation, "waking from sleep") {
				t.Errorf("remediation %q does not say how to lock on suspend", res.Remediation)
			}
			for _, s := range f.Settings {
				if strings.Contains(s.Value, "hunter2") {
					t.Errorf("a session variable other than XDG_* was kept: %+v", s)
				}
			}
		})
	}
}
