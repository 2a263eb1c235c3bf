package roottest_test

import (
	"os"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/internal/roottest"
)

// Each variant is a Debian 12 machine as people leave it: the base root
// changed only by commands an administrator would run. The agent judges
// it live; the tests check the verdict and the evidence it rests on.

func TestMain(m *testing.M) {
	code := m.Run()
	roottest.Cleanup()
	os.Exit(code)
}

// evidenceValue returns evidence[rule]["value"] as a number.
func evidenceValue(t *testing.T, v checks.Verdict, rule string) float64 {
	t.Helper()
	e, ok := v.Evidence[rule].(map[string]any)
	if !ok {
		t.Fatalf("%s evidence has no %s: %v", v.ID, rule, v.Evidence)
	}
	n, ok := e["value"].(float64)
	if !ok {
		t.Fatalf("%s evidence %s has no value: %v", v.ID, rule, e)
	}
	return n
}

func wantStatus(t *testing.T, r roottest.Result, id checks.ControlID, want checks.Status, inSummary ...string) checks.Verdict {
	t.Helper()
	v := r.Verdict(t, id)
	if v.Status != want {
		t.Errorf("%s = %s (%s), want %s\nevidence %v\nlog:\n%s", id, v.Status, v.Summary, want, v.Evidence, r.Log)
	}
	for _, s := range inSummary {
		if !strings.Contains(v.Summary, s) {
			t.Errorf("%s summary %q does not mention %q", id, v.Summary, s)
		}
	}
	return v
}

// Shell for the PAM variants: faillock before pam_unix, as
// pam_faillock(8)'s example, with or without its authfail half.
const (
	faillockPreauth = `sed -i 's/^auth\t\[success=1 default=ignore\]\tpam_unix.so nullok$/auth\trequisite\t\t\tpam_faillock.so preauth\n&/' /etc/pam.d/common-auth
echo 'deny = 5' >>/etc/security/faillock.conf`
	faillockAuthfail = `sed -i 's/^auth\t\[success=1 default=ignore\]\tpam_unix.so nullok$/auth\t[success=2 default=ignore]\tpam_unix.so nullok\nauth\t[default=die]\t\t\tpam_faillock.so authfail/' /etc/pam.d/common-auth`
	strongPasswords  = `printf 'minlen = 12\nminclass = 3\n' >>/etc/security/pwquality.conf
sed -i 's/^password\t\[success=1 default=ignore\]\tpam_unix.so/password\trequisite\t\t\tpam_pwhistory.so remember=6 use_authtok\n&/' /etc/pam.d/common-password
sed -i 's/^PASS_MAX_DAYS.*/PASS_MAX_DAYS\t90/' /etc/login.defs`
)

func TestPAM(t *testing.T) {
	t.Run("Debian's own stack has no lockout", func(t *testing.T) {
		r := roottest.Run(t, roottest.Variant{Setup: "true"})
		v := wantStatus(t, r, checks.PasswordPolicy, checks.StatusFail, "lockout_threshold never locks")
		if n := evidenceValue(t, v, "lockout_threshold"); n != 0 {
			t.Errorf("lockout_threshold = %v, want 0", n)
		}
	})
	t.Run("pam_faillock preauth without authfail never locks", func(t *testing.T) {
		r := roottest.Run(t, roottest.Variant{Setup: faillockPreauth + "\n" + strongPasswords})
		v := wantStatus(t, r, checks.PasswordPolicy, checks.StatusFail, "lockout_threshold never locks")
		if n := evidenceValue(t, v, "lockout_threshold"); n != 0 {
			t.Errorf("lockout_threshold = %v, want 0", n)
		}
	})
	t.Run("pam_faillock with preauth and authfail and strong rules passes", func(t *testing.T) {
		r := roottest.Run(t, roottest.Variant{Setup: faillockPreauth + "\n" + faillockAuthfail + "\n" + strongPasswords})
		v := wantStatus(t, r, checks.PasswordPolicy, checks.StatusPass)
		if n := evidenceValue(t, v, "lockout_threshold"); n != 5 {
			t.Errorf("lockout_threshold = %v, want 5", n)
		}
	})
	t.Run("the verdicts match what PAM does: pamtester locks only the full stack", func(t *testing.T) {
		// Six wrong passwords (deny is 5), then the right one, through the real
		// stack; pamtester exits non-zero when authentication fails.
		// The password is set as a hash: chpasswd would go through
		// pwquality's dictionary check, which the root has no dictionary for.
		try := `command -v pamtester >/dev/null
useradd -m bob
usermod -p "$(python3 -c 'import crypt; print(crypt.crypt("Right-Horse-42", crypt.mksalt(crypt.METHOD_SHA512)))' 2>/dev/null)" bob
echo 'Right-Horse-42' | pamtester login bob authenticate >/dev/null 2>&1 || { echo "pamtester: the right password fails before any failure" >&2; exit 1; }
for i in 1 2 3 4 5 6; do echo wrong | pamtester login bob authenticate >/dev/null 2>&1 || true; done
if echo 'Right-Horse-42' | pamtester login bob authenticate >/dev/null 2>&1; then echo SIGNED-IN >&2; else echo LOCKED >&2; fi`
		preauthOnly := roottest.Run(t, roottest.Variant{Setup: faillockPreauth + "\n" + try})
		full := roottest.Run(t, roottest.Variant{Setup: faillockPreauth + "\n" + faillockAuthfail + "\n" + try})
		if !strings.Contains(preauthOnly.Log, "SIGNED-IN") {
			t.Errorf("preauth alone: want the right password to sign in after six failures; log:\n%s", preauthOnly.Log)
		}
		if !strings.Contains(full.Log, "LOCKED") {
			t.Errorf("preauth and authfail: want the account locked after six failures; log:\n%s", full.Log)
		}
	})
}

func TestAccounts(t *testing.T) {
	t.Run("debootstrap's root where no account has a password never passes password_protected", func(t *testing.T) {
		// root is '*' in shadow and there is no other account.
		r := roottest.Run(t, roottest.Variant{Setup: "true"})
		wantStatus(t, r, checks.PasswordProtected, checks.StatusUnknown, "no interactive account has a password")
	})
	t.Run("an account given a password passes password_protected", func(t *testing.T) {
		r := roottest.Run(t, roottest.Variant{Setup: `useradd -m -s /bin/bash alice
usermod -p "$(python3 -c 'import crypt; print(crypt.crypt("Right-Horse-42", crypt.mksalt(crypt.METHOD_SHA512)))' 2>/dev/null)" alice`})
		wantStatus(t, r, checks.PasswordProtected, checks.StatusPass, "1 interactive account(s) with a password")
	})
}

// securitySuite adds Debian's security suite to the sources with the
// lists the root's build fetched, as `apt update` would have left them.
const securitySuite = `cp /var/lib/postern-test/security.sources /etc/apt/sources.list.d/
cp /var/lib/postern-test/security-lists/*security* /var/lib/apt/lists/
touch /var/lib/apt/lists/*Release`

func TestAPT(t *testing.T) {
	t.Run("sources without the security suite never pass os_patched", func(t *testing.T) {
		r := roottest.Run(t, roottest.Variant{Setup: "touch /var/lib/apt/lists/*Release"})
		v := r.Verdict(t, checks.OSPatched)
		if v.Status == checks.StatusPass || !strings.Contains(v.Summary, "no security suite") {
			t.Errorf("os_patched = %s (%s), want no pass, for the missing security suite", v.Status, v.Summary)
		}
	})
	t.Run("with the security suite apt's answer is judged", func(t *testing.T) {
		r := roottest.Run(t, roottest.Variant{Setup: securitySuite})
		v := r.Verdict(t, checks.OSPatched)
		if strings.Contains(v.Summary, "no security suite") || strings.Contains(v.Summary, "incomplete") {
			t.Errorf("os_patched = %s (%s), want apt's answer judged", v.Status, v.Summary)
		}
		t.Logf("os_patched = %s: %s", v.Status, v.Summary)
	})
	t.Run("apt.conf moving the lists and the log is where os_patched reads them", func(t *testing.T) {
		// apt itself follows Dir::State::lists and Dir::Log; so must the agent.
		r := roottest.Run(t, roottest.Variant{Setup: securitySuite + `
rm -f /var/lib/apt/periodic/update-success-stamp
mkdir -p /srv/apt /srv/log
mv /var/lib/apt/lists /srv/apt/lists
mv /var/log/apt /srv/log/apt
printf 'Start-Date: 2026-11-20  06:10:01\nCommandline: /usr/bin/unattended-upgrade\nUpgrade: libssl3:amd64 (3.0.15-1~deb12u1, 3.0.17-1~deb12u2)\nEnd-Date: 2026-11-20  06:10:09\n' >>/srv/log/apt/history.log
printf 'Dir::State::lists "/srv/apt/lists/";\nDir::Log "/srv/log/apt";\n' >/etc/apt/apt.conf.d/90moved
apt-config dump | grep -E '^Dir::(State::lists|Log) ' >&2`})
		v := r.Verdict(t, checks.OSPatched)
		for key, want := range map[string]string{"last_refresh": "/srv/apt/lists (newest Release file)", "last_patch": "/srv/log/apt/history.log"} {
			if got, _ := v.Evidence[key].(string); !strings.Contains(got, want) {
				t.Errorf("os_patched evidence %s = %q, want it read from %s\nevidence %v\nlog:\n%s", key, got, want, v.Evidence, r.Log)
			}
		}
		if strings.Contains(v.Summary, "no security suite") || strings.Contains(v.Summary, "no package lists") {
			t.Errorf("os_patched = %s (%s): apt's moved lists were not used", v.Status, v.Summary)
		}
	})
	t.Run("unattended-upgrades with no cron daemon running installs nothing", func(t *testing.T) {
		r := roottest.Run(t, roottest.Variant{Setup: "true"})
		wantStatus(t, r, checks.OSAutoUpdate, checks.StatusFail, "nothing runs it")
	})
	t.Run("unattended-upgrades run by cron passes", func(t *testing.T) {
		r := roottest.Run(t, roottest.Variant{Setup: "cron"})
		wantStatus(t, r, checks.OSAutoUpdate, checks.StatusPass, "installs updates automatically")
	})
	t.Run("unattended-upgrades with its origins cleared installs nothing", func(t *testing.T) {
		r := roottest.Run(t, roottest.Variant{Setup: `cron
printf '#clear Unattended-Upgrade::Origins-Pattern;\n' >/etc/apt/apt.conf.d/99-no-origins`})
		wantStatus(t, r, checks.OSAutoUpdate, checks.StatusFail, "installs nothing")
	})
}

func TestClamAV(t *testing.T) {
	t.Run("installed without a database or a running scanner fails", func(t *testing.T) {
		r := roottest.Run(t, roottest.Variant{Setup: "true"})
		wantStatus(t, r, checks.Antivirus, checks.StatusFail, "neither real-time nor scheduled scanning is on", "no ClamAV database in /var/lib/clamav")
	})
	t.Run("DatabaseDirectory in freshclam.conf is where the definitions are looked for", func(t *testing.T) {
		r := roottest.Run(t, roottest.Variant{Setup: `mkdir -p /srv/clamav
sed -i 's|^DatabaseDirectory .*|DatabaseDirectory /srv/clamav|' /etc/clamav/freshclam.conf /etc/clamav/clamd.conf`})
		wantStatus(t, r, checks.Antivirus, checks.StatusFail, "no ClamAV database in /srv/clamav")
	})
	t.Run("a nightly clamscan cron job with cron running is a schedule", func(t *testing.T) {
		r := roottest.Run(t, roottest.Variant{Setup: `cron
printf '0 2 * * * root /usr/bin/clamscan -ri /home\n' >/etc/cron.d/clamscan`})
		v := r.Verdict(t, checks.Antivirus)
		if strings.Contains(v.Summary, "neither real-time nor scheduled") {
			t.Errorf("antivirus = %s (%s), want the cron job counted", v.Status, v.Summary)
		}
	})
	t.Run("a clamscan cron job without cron running is no schedule", func(t *testing.T) {
		r := roottest.Run(t, roottest.Variant{Setup: `printf '0 2 * * * root /usr/bin/clamscan -ri /home\n' >/etc/cron.d/clamscan`})
		wantStatus(t, r, checks.Antivirus, checks.StatusFail, "neither real-time nor scheduled scanning is on")
	})
}

// gnomeSession makes alice (uid 1000) the user of a local GNOME Wayland
// session on seat0, in the files systemd-logind keeps under /run.
func gnomeSession(t *testing.T) map[string][]byte {
	t.Helper()
	read := func(name string) []byte {
		b, err := os.ReadFile("../../consoleuser/testdata/linux/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return map[string][]byte{
		"/run/systemd/seats/seat0": read("logind-seat__seat0_active.txt"),
		"/run/systemd/sessions/2":  read("logind-session__gnome_wayland.txt"),
		// The mandatory profile: no gnome-shell runs in the root, so the
		// session's environment (DCONF_PROFILE, XDG_CONFIG_HOME) cannot
		// be read, and only keys locked in this profile can pass.
		"/run/dconf/user/1000": []byte("user-db:user\nsystem-db:local\n"),
	}
}

// systemLock is what IT writes to lock the screen after 5 minutes, with
// or without locking the keys against the user.
func systemLock(locked bool) string {
	s := `useradd -m -u 1000 alice
mkdir -p /etc/dconf/db/local.d
printf '[org/gnome/desktop/session]\nidle-delay=uint32 300\n\n[org/gnome/desktop/screensaver]\nlock-enabled=true\nlock-delay=uint32 0\n\n[org/gnome/desktop/lockdown]\ndisable-lock-screen=false\n' >/etc/dconf/db/local.d/00-screenlock
`
	if locked {
		s += `mkdir -p /etc/dconf/db/local.d/locks
printf '/org/gnome/desktop/session/idle-delay\n/org/gnome/desktop/screensaver/lock-enabled\n/org/gnome/desktop/screensaver/lock-delay\n/org/gnome/desktop/lockdown/disable-lock-screen\n' >/etc/dconf/db/local.d/locks/screenlock
`
	}
	return s + "dconf update\n"
}

// userUnlock is the user turning the lock off in their own database.
const userUnlock = `mkdir -p /tmp/u /home/alice/.config/dconf
printf '[org/gnome/desktop/screensaver]\nlock-enabled=false\n' >/tmp/u/00
dconf compile /home/alice/.config/dconf/user /tmp/u
chown -R alice /home/alice/.config`

func TestGNOME(t *testing.T) {
	t.Run("a locked system database passes", func(t *testing.T) {
		r := roottest.Run(t, roottest.Variant{Files: gnomeSession(t), Setup: systemLock(true)})
		wantStatus(t, r, checks.ScreenLock, checks.StatusPass)
	})
	t.Run("the user's database turning the lock off wins over an unlocked system default", func(t *testing.T) {
		r := roottest.Run(t, roottest.Variant{Files: gnomeSession(t), Setup: systemLock(false) + userUnlock})
		wantStatus(t, r, checks.ScreenLock, checks.StatusFail)
	})
	t.Run("the user's database cannot undo a locked key", func(t *testing.T) {
		r := roottest.Run(t, roottest.Variant{Files: gnomeSession(t), Setup: systemLock(true) + userUnlock})
		wantStatus(t, r, checks.ScreenLock, checks.StatusPass)
	})
	t.Run("keys locked in the default profile are unknown without the session's environment: DCONF_PROFILE may choose another", func(t *testing.T) {
		files := gnomeSession(t)
		files["/etc/dconf/profile/user"] = files["/run/dconf/user/1000"]
		delete(files, "/run/dconf/user/1000")
		r := roottest.Run(t, roottest.Variant{Files: files, Setup: systemLock(true)})
		wantStatus(t, r, checks.ScreenLock, checks.StatusUnknown)
	})
}

// dropInbound is a host firewall as nftables.conf(5) would hold it.
const dropInbound = `cat >/etc/nftables.conf <<'EOF'
#!/usr/sbin/nft -f
flush ruleset
table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iif lo accept
	}
}
EOF
nft -f /etc/nftables.conf`

func TestFirewall(t *testing.T) {
	tests := []struct {
		name, setup string
		want        checks.Status
	}{
		{"no ruleset loaded fails", "true", checks.StatusFail},
		{"Debian's shipped nftables.conf accepts everything and fails", "nft -f /etc/nftables.conf", checks.StatusFail},
		{"an nftables input chain that drops passes", dropInbound, checks.StatusPass},
		{"ufw enabled passes", "ufw --force enable >/dev/null", checks.StatusPass},
		{"ufw enabled in its configuration but its rules flushed afterwards fails", "ufw --force enable >/dev/null\nnft flush ruleset", checks.StatusFail},
		{"a dropping ruleset flushed afterwards fails", dropInbound + "\nnft flush ruleset", checks.StatusFail},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := roottest.Run(t, roottest.Variant{Setup: tc.setup})
			wantStatus(t, r, checks.Firewall, tc.want)
		})
	}
}
