package screenlock

import (
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// TestUnreadableSessionEnvironmentNeverPasses holds the rule that a
// desktop's settings read from the default places, when the session's
// environment that may move them could not be read, can fail the control
// but never pass it, and that the summary says what was missing and what
// to do.
func TestUnreadableSessionEnvironmentNeverPasses(t *testing.T) {
	const scope = "/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope/cgroup.procs"
	gnome := func() *host.Fake { return linuxSessionNoEnv(t, "logind-session__gnome_wayland.txt") }
	kde := func() *host.Fake { return linuxSessionNoEnv(t, "logind-session__kde_x11.txt") }
	lockedLocal := func(h *host.Fake, profile string) *host.Fake {
		return h.AddFile(profile, checktest.Testdata(t, "linux", "dconf-profile__user_local.txt")).
			AddStat("/etc/dconf/db/local", host.FileInfo{Name: "local", Size: 608, Mode: 0o644}, nil).
			AddFile("/etc/dconf/db/local", checktest.Testdata(t, "linux", "dconf-db__local_locked_600.gvdb"))
	}
	tests := []struct {
		name         string
		host         *host.Fake
		wantStatus   checks.Status
		wantInReason []string
	}{
		{"GNOME's defaults without any readable session process are unknown, saying which files were missing and what to do",
			gnome(), checks.StatusUnknown,
			[]string{"the GNOME session's environment could not be read", "no readable " + scope, "DCONF_PROFILE and XDG_CONFIG_HOME", "run the agent as root", "/run/dconf/user/UID"}},
		{"a gnome-shell whose environ cannot be read is named in the reason",
			gnome().AddFile(scope, []byte("1450\n")).AddFile("/proc/1450/comm", []byte("gnome-shell\n")).
				AddFileError("/proc/1450/environ", host.ErrPermission),
			checks.StatusUnknown, []string{"/proc/1450/environ (gnome-shell) could not be read"}},
		{"a session scope without any GNOME process says so",
			gnome().AddFile(scope, []byte("1402\n")).AddFile("/proc/1402/comm", []byte("gdm-wayland-ses\n")),
			checks.StatusUnknown, []string{"no gnome-session, gnome-session-binary, gnome-shell process was found in logind session 2"}},
		{"the user's database turning the lock off still fails: that is evidence against, wherever the session reads",
			gnome().AddFile(aliceHome+"/.config/dconf/user", checktest.Testdata(t, "linux", "dconf-user__lock_disabled.gvdb")),
			checks.StatusFail, []string{"never locks"}},
		{"keys locked in the default profile's system database are unknown: the session's DCONF_PROFILE could choose another profile",
			lockedLocal(gnome(), "/etc/dconf/profile/user"), checks.StatusUnknown,
			[]string{"the GNOME session's environment could not be read"}},
		{"the mandatory profile with lock-delay left unlocked is unknown: the user database, which XDG_CONFIG_HOME places, may set it",
			lockedLocal(gnome(), "/run/dconf/user/1000"), checks.StatusUnknown, []string{"the GNOME session's environment could not be read"}},
		{"every screen-lock key locked in the mandatory profile's system database passes: no session variable can replace it",
			gnome().AddFile("/run/dconf/user/1000", checktest.Testdata(t, "linux", "dconf-profile__user_local.txt")).
				AddGlob("/etc/dconf/db/local.d/*", []string{"/etc/dconf/db/local.d/00-screensaver", "/etc/dconf/db/local.d/locks"}, nil).
				AddFile("/etc/dconf/db/local.d/00-screensaver", append(checktest.Testdata(t, "linux", "dconf-keyfile__local_600.txt"), "\n[org/gnome/desktop/lockdown]\ndisable-lock-screen=false\n"...)).
				AddGlob("/etc/dconf/db/local.d/locks/*", []string{"/etc/dconf/db/local.d/locks/screensaver"}, nil).
				AddFile("/etc/dconf/db/local.d/locks/screensaver", append(checktest.Testdata(t, "linux", "dconf-locks__local.txt"), "/org/gnome/desktop/screensaver/lock-delay\n/org/gnome/desktop/lockdown/disable-lock-screen\n"...)).
				AddFile(aliceHome+"/.config/dconf/user", checktest.Testdata(t, "linux", "dconf-user__lock_disabled.gvdb")),
			checks.StatusPass, []string{"10 min idle"}},
		{"KDE's defaults without a readable Plasma process are unknown, saying what to do",
			kde(), checks.StatusUnknown,
			[]string{"the Plasma session's environment could not be read", "XDG_CONFIG_DIRS and XDG_CONFIG_HOME", "run the agent as root"}},
		{"KDE's user file with a 30-minute timeout still fails",
			kde().AddFile(aliceHome+"/.config/kscreenlockerrc", checktest.Testdata(t, "linux", "kscreenlockerrc__timeout_30.txt")),
			checks.StatusFail, []string{"30 min"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, f := collectAndEvaluate(t, tc.host)
			if res.Status != tc.wantStatus {
				t.Fatalf("got %s %q, want %s\nfacts %+v", res.Status, res.Summary, tc.wantStatus, f)
			}
			for _, w := range tc.wantInReason {
				if !strings.Contains(res.Summary, w) {
					t.Errorf("summary %q lacks %q", res.Summary, w)
				}
			}
			if strings.HasSuffix(res.Summary, "…") {
				t.Errorf("summary of %d bytes: %q", len(res.Summary), res.Summary)
			}
		})
	}
}
