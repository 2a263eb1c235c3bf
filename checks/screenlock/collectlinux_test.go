package screenlock

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

const aliceHome = "/home/alice"

// linuxSession is a fake Linux host with alice signed in at seat0 in the
// given session file, her session's desktop processes (gnome-shell,
// startplasma-x11) started with an environment that moves nothing.
func linuxSession(t *testing.T, session string) *host.Fake {
	return linuxSessionNoEnv(t, session).
		AddFile("/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope/cgroup.procs", []byte("1402\n1450\n1600\n")).
		AddFile("/proc/1402/comm", []byte("gdm-wayland-ses\n")).
		AddFile("/proc/1450/comm", []byte("gnome-shell\n")).
		AddFile("/proc/1450/environ", []byte("HOME=/home/alice\x00LANG=en_US.UTF-8\x00")).
		AddFile("/proc/1600/comm", []byte("startplasma-x11\n")).
		AddFile("/proc/1600/environ", []byte("HOME=/home/alice\x00LANG=en_US.UTF-8\x00"))
}

// linuxSessionNoEnv is linuxSession without any readable process of the
// session.
func linuxSessionNoEnv(t *testing.T, session string) *host.Fake {
	return host.NewFake("linux", "amd64").
		AddFile("/run/systemd/seats/seat0", checktest.Testdata(t, "linux", "logind-seat__seat0_active.txt")).
		AddFile("/run/systemd/sessions/2", checktest.Testdata(t, "linux", session)).
		AddFile("/etc/passwd", checktest.Testdata(t, "linux", "passwd__alice.txt"))
}

func gnomeHost(t *testing.T) *host.Fake {
	return linuxSession(t, "logind-session__gnome_wayland.txt")
}

func withLocalDB(t *testing.T, h *host.Fake) *host.Fake {
	return h.AddFile("/etc/dconf/profile/user", checktest.Testdata(t, "linux", "dconf-profile__user_local.txt")).
		AddStat("/etc/dconf/db/local", host.FileInfo{Name: "local", Size: 608, Mode: 0o644}, nil).
		AddFile("/etc/dconf/db/local", checktest.Testdata(t, "linux", "dconf-db__local_locked_600.gvdb"))
}

func TestCollectLinux(t *testing.T) {
	userDB := aliceHome + "/.config/dconf/user"
	tests := []struct {
		name        string
		host        *host.Fake
		wantStatus  checks.Status
		wantSummary string
		wantLock    any
	}{
		{"GNOME with upstream defaults locks after 5 minutes and passes",
			gnomeHost(t), checks.StatusPass, "5 min idle", 300},
		{"GNOME with the user's idle delay of 30 minutes fails",
			gnomeHost(t).AddFile(userDB, checktest.Testdata(t, "linux", "dconf-user__idle_1800.gvdb")),
			checks.StatusFail, "30 min idle", 1800},
		{"GNOME with the user's lock turned off never locks and fails",
			gnomeHost(t).AddFile(userDB, checktest.Testdata(t, "linux", "dconf-user__lock_disabled.gvdb")),
			checks.StatusFail, "never locks", "never"},
		{"a locked system database overrides the user's lock-off and passes",
			withLocalDB(t, gnomeHost(t)).AddFile(userDB, checktest.Testdata(t, "linux", "dconf-user__lock_disabled.gvdb")),
			checks.StatusPass, "10 min 30 s idle", 630},
		{"uncompiled system keyfiles and locks are read as text",
			gnomeHost(t).
				AddFile("/etc/dconf/profile/user", checktest.Testdata(t, "linux", "dconf-profile__user_local.txt")).
				AddGlob("/etc/dconf/db/local.d/*", []string{"/etc/dconf/db/local.d/00-screensaver", "/etc/dconf/db/local.d/locks"}, nil).
				AddFile("/etc/dconf/db/local.d/00-screensaver", checktest.Testdata(t, "linux", "dconf-keyfile__local_600.txt")).
				AddGlob("/etc/dconf/db/local.d/locks/*", []string{"/etc/dconf/db/local.d/locks/screensaver"}, nil).
				AddFile("/etc/dconf/db/local.d/locks/screensaver", checktest.Testdata(t, "linux", "dconf-locks__local.txt")).
				AddFile(userDB, checktest.Testdata(t, "linux", "dconf-user__lock_disabled.gvdb")),
			checks.StatusPass, "10 min 30 s idle", 630},
		{"an unreadable user database is unknown with the reason",
			gnomeHost(t).AddFileError(userDB, host.Wrap(host.ErrPermission, nil)),
			checks.StatusUnknown, "permission denied", "never"},
		{"a corrupt user database is unknown with the reason",
			gnomeHost(t).AddFile(userDB, []byte("GVariant\x00\x00\x00\x00garbage")),
			checks.StatusUnknown, "cannot decode", "never"},
		{"a distribution's desktop-specific schema override changes the default",
			linuxSession(t, "logind-session__gnome_wayland.txt").
				AddFile("/run/systemd/sessions/2", []byte(strings.Replace(string(checktest.Testdata(t, "linux", "logind-session__gnome_wayland.txt")), "DESKTOP=gnome", "DESKTOP=ubuntu", 1))).
				AddGlob("/usr/share/glib-2.0/schemas/*.gschema.override", []string{"/usr/share/glib-2.0/schemas/10_ubuntu-settings.gschema.override"}, nil).
				AddFile("/usr/share/glib-2.0/schemas/10_ubuntu-settings.gschema.override", checktest.Testdata(t, "linux", "gschema-override__ubuntu.txt")),
			checks.StatusPass, "15 min 30 s idle", 930},
		{"Ubuntu's real vendor override, which sets no lock keys, leaves GNOME's defaults",
			linuxSession(t, "logind-session__gnome_wayland.txt").
				AddFile("/run/systemd/sessions/2", []byte(strings.Replace(string(checktest.Testdata(t, "linux", "logind-session__gnome_wayland.txt")), "DESKTOP=gnome", "DESKTOP=ubuntu:GNOME", 1))).
				AddGlob("/usr/share/glib-2.0/schemas/*.gschema.override", []string{"/usr/share/glib-2.0/schemas/10_ubuntu-settings.gschema.override"}, nil).
				AddFile("/usr/share/glib-2.0/schemas/10_ubuntu-settings.gschema.override", checktest.Testdata(t, "linux", "gschema-override__ubuntu_settings.txt")),
			checks.StatusPass, "5 min idle", 300},
		{"KDE with the defaults locks after 5 minutes and passes",
			linuxSession(t, "logind-session__kde_x11.txt"), checks.StatusPass, "5 min 5 s idle", 305},
		{"KDE with a 30 minute timeout fails",
			linuxSession(t, "logind-session__kde_x11.txt").AddFile(aliceHome+"/.config/kscreenlockerrc", checktest.Testdata(t, "linux", "kscreenlockerrc__timeout_30.txt")),
			checks.StatusFail, "30 min 10 s idle", 1810},
		{"KDE with only a lock grace of 45 seconds keeps the 5 minute timeout and passes (real user file)",
			linuxSession(t, "logind-session__kde_x11.txt").AddFile(aliceHome+"/.config/kscreenlockerrc", checktest.Testdata(t, "linux", "kscreenlockerrc__lockgrace_45_richguk.txt")),
			checks.StatusPass, "5 min 45 s idle", 345},
		{"KDE with automatic locking off fails (real user file)",
			linuxSession(t, "logind-session__kde_x11.txt").AddFile(aliceHome+"/.config/kscreenlockerrc", checktest.Testdata(t, "linux", "kscreenlockerrc__autolock_off_chasinglogic.txt")),
			checks.StatusFail, "never locks", "never"},
		{"an immutable system kscreenlockerrc with CRLF wins over the user's file",
			linuxSession(t, "logind-session__kde_x11.txt").
				AddFile("/etc/xdg/kscreenlockerrc", checktest.Testdata(t, "linux", "kscreenlockerrc__system_immutable_crlf.txt")).
				AddFile(aliceHome+"/.config/kscreenlockerrc", checktest.Testdata(t, "linux", "kscreenlockerrc__autolock_off_chasinglogic.txt")),
			checks.StatusPass, "10 min idle", 600},
		{"an unsupported desktop is unknown and names it",
			linuxSession(t, "logind-session__gnome_wayland.txt").
				AddFile("/run/systemd/sessions/2", []byte(strings.Replace(string(checktest.Testdata(t, "linux", "logind-session__gnome_wayland.txt")), "DESKTOP=gnome", "DESKTOP=xfce", 1))),
			checks.StatusUnknown, `"xfce" desktop`, "never"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := collectAndEvaluate(t, tc.host)
			if res.Status != tc.wantStatus || !strings.Contains(res.Summary, tc.wantSummary) {
				t.Errorf("got %s %q, want %s containing %q; evidence %v", res.Status, res.Summary, tc.wantStatus, tc.wantSummary, res.Evidence)
			}
			if diff := cmp.Diff(tc.wantLock, res.Evidence["effective_lock_seconds"]); diff != "" {
				t.Errorf("effective_lock_seconds (-want +got):\n%s", diff)
			}
			if res.Status == checks.StatusFail && res.Remediation == "" {
				t.Error("a failure has no remediation")
			}
		})
	}
}

func TestCollectLinuxWithoutLogindIsAnError(t *testing.T) {
	_, err := Collect(context.Background(), host.NewFake("linux", "amd64"))
	if err == nil || !strings.Contains(err.Error(), "no systemd-logind") {
		t.Errorf("error = %v, want it to say logind is missing", err)
	}
}

func TestCollectLinuxWithoutAGraphicalSession(t *testing.T) {
	tests := []struct {
		name string
		host *host.Fake
		want string
	}{
		{"a server with no sessions is not applicable",
			host.NewFake("linux", "amd64").AddDir("/run/systemd/sessions", nil, nil), "no local session on a seat"},
		{"a text console session is not applicable",
			linuxSession(t, "logind-session__tty.txt"), `type "tty"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := collectAndEvaluate(t, tc.host)
			if res.Status != checks.StatusNotApplicable || !strings.Contains(res.Summary, tc.want) {
				t.Errorf("got %s %q, want not_applicable mentioning %q", res.Status, res.Summary, tc.want)
			}
		})
	}
}
