package passwordprotected

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

func linuxHost(t *testing.T, passwd, shadow string) *host.Fake {
	return host.NewFake("linux", "amd64").
		AddFile(passwdPath, checktest.Testdata(t, "linux", passwd)).
		AddFile(shadowPath, checktest.Testdata(t, "linux", shadow)).
		AddFile(loginDefsPath, checktest.Testdata(t, "linux", "login.defs__debian12.txt")).
		AddFile("/etc/pam.d/common-auth", checktest.Testdata(t, "linux", "common-auth__debian12.txt"))
}

func laptop(t *testing.T) *host.Fake {
	return linuxHost(t, "passwd__laptop_handwritten.txt", "shadow__laptop_compliant_handwritten.txt")
}

// sddmFile is where KDE's image settings put their automatic login.
const sddmFile = "/etc/sddm.conf.d/autologin.conf"

// sddmDropIn adds the real SDDM drop-in of KDE/bigscreen-image-settings.
func sddmDropIn(t *testing.T, h *host.Fake) *host.Fake {
	return h.AddGlob("/etc/sddm.conf.d/*.conf", []string{sddmFile}, nil).
		AddFile(sddmFile, checktest.Testdata(t, "linux", "sddm.conf.d-autologin.conf__kde_bigscreen.txt"))
}

func TestCollectLinux(t *testing.T) {
	gettyGlob := "/etc/systemd/system/getty@*.service.d/*.conf"
	gettyFile := "/etc/systemd/system/getty@tty1.service.d/override.conf"
	gdmLink := host.FileInfo{Name: "display-manager.service", Mode: fs.ModeSymlink | 0o777, Link: "/lib/systemd/system/gdm3.service"}
	tests := []struct {
		name        string
		host        *host.Fake
		want        checks.Status
		wantSummary string
	}{
		{"the CI machine with every account locked is unknown: nothing shows a password is asked",
			linuxHost(t, "passwd__debian12_ci.txt", "shadow__debian12_ci.txt"),
			checks.StatusUnknown, "no interactive account has a password (2 locked or disabled"},
		{"a laptop whose only password-less account has expired passes",
			laptop(t).AddFile("/etc/gdm3/daemon.conf", checktest.Testdata(t, "linux", "gdm3-daemon.conf__debian12_default.txt")),
			checks.StatusPass, "1 interactive account(s) with a password"},
		{"an account with an empty shadow password fails",
			linuxHost(t, "passwd__laptop_handwritten.txt", "shadow__laptop_empty_password_handwritten.txt"),
			checks.StatusFail, "with no password: bob"},
		{"GDM automatic login fails",
			laptop(t).AddFile("/etc/gdm3/daemon.conf", checktest.Testdata(t, "linux", "gdm3-daemon.conf__autologin.txt")),
			checks.StatusFail, "gdm signs in alice (/etc/gdm3/daemon.conf)"},
		{"GDM timed login fails",
			laptop(t).AddFile("/etc/gdm3/custom.conf", checktest.Testdata(t, "linux", "gdm3-daemon.conf__timed.txt")),
			checks.StatusFail, "gdm signs in alice"},
		{"LightDM automatic login in its main file fails",
			laptop(t).
				AddGlob("/usr/share/lightdm/lightdm.conf.d/*.conf", []string{"/usr/share/lightdm/lightdm.conf.d/01_debian.conf"}, nil).
				AddFile("/usr/share/lightdm/lightdm.conf.d/01_debian.conf", checktest.Testdata(t, "linux", "lightdm-01_debian.conf__debian12.txt")).
				AddFile("/etc/lightdm/lightdm.conf", checktest.Testdata(t, "linux", "lightdm.conf__autologin.txt")),
			checks.StatusFail, "lightdm signs in alice"},
		{"LightDM's default configuration passes",
			laptop(t).AddFile("/etc/lightdm/lightdm.conf", checktest.Testdata(t, "linux", "lightdm.conf__debian12_default.txt")),
			checks.StatusPass, "no automatic sign-in"},
		{"KDE's real SDDM automatic login drop-in fails when SDDM is the display manager",
			sddmDropIn(t, laptop(t)),
			checks.StatusFail, "sddm signs in manjaro (" + sddmFile + ")"},
		{"SDDM automatic login is ignored while GDM is the display manager",
			sddmDropIn(t, laptop(t)).AddStat(displayManagerUnit, gdmLink, nil),
			checks.StatusPass, "no automatic sign-in"},
		{"Whonix's real getty drop-in with --autologin fails",
			laptop(t).AddGlob(gettyGlob, []string{gettyFile}, nil).
				AddFile(gettyFile, checktest.Testdata(t, "linux", "getty-autologin.conf__kicksecure_rads.txt")),
			checks.StatusFail, "getty signs in user"},
		{"an ArchWiki-style getty drop-in with a quoted -o option before --autologin fails",
			laptop(t).AddGlob(gettyGlob, []string{gettyFile}, nil).
				AddFile(gettyFile, checktest.Testdata(t, "linux", "getty-override.conf__autologin_handwritten.txt")),
			checks.StatusFail, "getty signs in alice"},
		{"a CRLF getty drop-in without --autologin passes",
			laptop(t).AddGlob(gettyGlob, []string{gettyFile}, nil).
				AddFile(gettyFile, checktest.Testdata(t, "linux", "getty-override.conf__noautologin_crlf_handwritten.txt")),
			checks.StatusPass, "no automatic sign-in"},
		{"an agent that cannot read /etc/shadow cannot tell",
			laptop(t).AddFileError(shadowPath, host.Wrap(host.ErrPermission, errors.New("open /etc/shadow: permission denied"))),
			checks.StatusUnknown, "reading /etc/shadow needs root"},
		{"an unreadable login.defs cannot tell: its UID_MIN and UID_MAX say whose accounts are judged",
			laptop(t).AddFileError(loginDefsPath, host.Wrap(host.ErrPermission, errors.New("open /etc/login.defs: permission denied"))),
			checks.StatusUnknown, "read /etc/login.defs (it says which UIDs are people's accounts): open /etc/login.defs: permission denied"},
		{"an unreadable display manager file cannot tell",
			laptop(t).AddFileError("/etc/gdm3/custom.conf", host.Wrap(host.ErrPermission, errors.New("open /etc/gdm3/custom.conf: permission denied"))),
			checks.StatusUnknown, "/etc/gdm3/custom.conf: permission denied"},
		{"a failure wins over an unreadable file",
			laptop(t).AddFile("/etc/gdm3/daemon.conf", checktest.Testdata(t, "linux", "gdm3-daemon.conf__autologin.txt")).
				AddFileError("/etc/gdm/custom.conf", host.Wrap(host.ErrPermission, errors.New("open /etc/gdm/custom.conf: permission denied"))),
			checks.StatusFail, "automatic sign-in is on"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, _, err := run(t, tc.host)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.want || !strings.Contains(res.Summary, tc.wantSummary) {
				t.Errorf("got %s %q, want %s containing %q", res.Status, res.Summary, tc.want, tc.wantSummary)
			}
			if res.Status == checks.StatusFail && res.Remediation == "" {
				t.Error("a failure has no remediation")
			}
		})
	}
}

func TestCollectLinuxFacts(t *testing.T) {
	_, f, err := run(t, linuxHost(t, "passwd__laptop_handwritten.txt", "shadow__laptop_empty_password_handwritten.txt"))
	if err != nil {
		t.Fatal(err)
	}
	expired := int64(20200)
	want := []Account{
		{Name: "root", ID: "0", Password: PasswordLocked, Source: shadowPath},
		{Name: "alice", ID: "1000", Password: PasswordSet, Source: shadowPath},
		{Name: "bob", ID: "1001", Password: PasswordNone, Source: shadowPath},
		{Name: "olduser", ID: "1002", Password: PasswordNone, ExpiresDay: &expired, Source: shadowPath},
	}
	if diff := cmp.Diff(want, f.Accounts); diff != "" {
		t.Errorf("accounts (-want +got):\n%s", diff)
	}
	if len(f.WeakEvidence) != 1 || !strings.Contains(f.WeakEvidence[0], "nullok") {
		t.Errorf("weak evidence = %q, want Debian's nullok", f.WeakEvidence)
	}
	b, _ := jsonString(f)
	if strings.Contains(b, "NOTAREALHASH") {
		t.Error("a password hash leaked into the facts")
	}
}

func TestCollectLinuxWithoutPasswdIsAnError(t *testing.T) {
	_, _, err := run(t, host.NewFake("linux", "amd64"))
	if err == nil || !strings.Contains(err.Error(), "read the accounts") {
		t.Fatalf("err = %v", err)
	}
}

func TestParseHelpers(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"an empty field is no password", passwordState(""), PasswordNone},
		{"a bang is locked", passwordState("!"), PasswordLocked},
		{"RHEL's double bang is locked", passwordState("!!"), PasswordLocked},
		{"a locked hash is locked", passwordState("!$6$x$y"), PasswordLocked},
		{"a star is locked", passwordState("*"), PasswordLocked},
		{"a hash is set", passwordState("$y$j9T$x$y"), PasswordSet},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
	t.Run("nologin, false and sync are not interactive shells", func(t *testing.T) {
		for _, s := range []string{"/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/bin/sync"} {
			if interactiveShell(s) {
				t.Errorf("%s counted as interactive", s)
			}
		}
		for _, s := range []string{"/bin/bash", "/usr/bin/zsh", ""} {
			if !interactiveShell(s) {
				t.Errorf("%q counted as not interactive", s)
			}
		}
	})
}
