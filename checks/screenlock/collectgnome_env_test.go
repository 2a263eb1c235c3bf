package screenlock

import (
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// gnomeSessionEnv gives alice's GNOME session (logind session 2) a
// gnome-shell process whose environment is env (NUL-separated, as
// /proc/PID/environ).
func gnomeSessionEnv(h *host.Fake, env string) *host.Fake {
	return h.AddFile("/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope/cgroup.procs", []byte("1402\n1450\n")).
		AddFile("/proc/1402/comm", []byte("gdm-wayland-ses\n")).
		AddFile("/proc/1450/comm", []byte("gnome-shell\n")).
		AddFile("/proc/1450/environ", []byte("HOME=/home/alice\x00"+env+"\x00SSH_AUTH_SOCK=/run/user/1000/keyring/ssh\x00"))
}

func TestDconfFollowsTheSessionsEnvironment(t *testing.T) {
	lockOff := func(h *host.Fake, p string) *host.Fake {
		return h.AddFile(p, checktest.Testdata(t, "linux", "dconf-user__lock_disabled.gvdb"))
	}
	localDB := func(h *host.Fake, profile string) *host.Fake {
		return h.AddFile(profile, checktest.Testdata(t, "linux", "dconf-profile__user_local.txt")).
			AddStat("/etc/dconf/db/local", host.FileInfo{Name: "local", Size: 608, Mode: 0o644}, nil).
			AddFile("/etc/dconf/db/local", checktest.Testdata(t, "linux", "dconf-db__local_locked_600.gvdb"))
	}
	tests := []struct {
		name        string
		host        *host.Fake
		wantStatus  checks.Status
		wantSummary string
	}{
		{"the user database under the session's XDG_CONFIG_HOME is the one read",
			lockOff(gnomeSessionEnv(gnomeHost(t), "XDG_CONFIG_HOME=/srv/alice/config"), "/srv/alice/config/dconf/user"),
			checks.StatusFail, "never locks"},
		{"a database left in ~/.config is not read when XDG_CONFIG_HOME moves it",
			lockOff(gnomeSessionEnv(gnomeHost(t), "XDG_CONFIG_HOME=/srv/alice/config"), aliceHome+"/.config/dconf/user"),
			checks.StatusPass, "5 min idle"},
		{"DCONF_PROFILE naming a profile with a locked system database is followed",
			localDB(lockOff(gnomeSessionEnv(gnomeHost(t), "DCONF_PROFILE=locked"), aliceHome+"/.config/dconf/user"), "/etc/dconf/profile/locked"),
			checks.StatusPass, "10 min 30 s idle"},
		{"an absolute DCONF_PROFILE (as Fleet Commander sets) is read as that file",
			localDB(lockOff(gnomeSessionEnv(gnomeHost(t), "DCONF_PROFILE=/run/user/1000/fleet-commander/dconf_profile"), aliceHome+"/.config/dconf/user"), "/run/user/1000/fleet-commander/dconf_profile"),
			checks.StatusPass, "10 min 30 s idle"},
		{"DCONF_PROFILE wins over the user profile: its user-only profile leaves the lock off",
			localDB(lockOff(gnomeSessionEnv(gnomeHost(t), "DCONF_PROFILE=/etc/dconf/profile/useronly").
				AddFile("/etc/dconf/profile/useronly", []byte("user-db:user\n")), aliceHome+"/.config/dconf/user"), "/etc/dconf/profile/user"),
			checks.StatusFail, "never locks"},
		{"the mandatory profile /run/dconf/user/UID wins over everything",
			localDB(lockOff(gnomeSessionEnv(gnomeHost(t), "DCONF_PROFILE=/etc/dconf/profile/useronly").
				AddFile("/etc/dconf/profile/useronly", []byte("user-db:user\n")), aliceHome+"/.config/dconf/user"), "/run/dconf/user/1000"),
			checks.StatusPass, "10 min 30 s idle"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, b := collectAndEvaluate(t, tc.host)
			if res.Status != tc.wantStatus || !strings.Contains(res.Summary, tc.wantSummary) {
				t.Errorf("got %s %q, want %s with %q\nfacts %+v", res.Status, res.Summary, tc.wantStatus, tc.wantSummary, b)
			}
		})
	}
}
