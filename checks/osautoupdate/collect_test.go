package osautoupdate

import (
	"errors"
	"io/fs"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

var present = host.FileInfo{Name: "x", Mode: 0o755}

func link(to string) host.FileInfo {
	return host.FileInfo{Name: "x", Mode: fs.ModeSymlink | 0o777, Link: to}
}

// apt is a Debian-family host under systemd with both apt timers enabled.
func apt() *host.Fake {
	return host.NewFake("linux", "amd64").
		AddStat(aptGetPath, present, nil).
		AddStat(systemdRunDir, host.FileInfo{Name: "system", Mode: fs.ModeDir | 0o755}, nil).
		AddStat(timersWants+"apt-daily.timer", link("/lib/systemd/system/apt-daily.timer"), nil).
		AddStat(timersWants+"apt-daily-upgrade.timer", link("/lib/systemd/system/apt-daily-upgrade.timer"), nil)
}

// aptParts is apt() without apt-config, unattended-upgrades installed,
// and the real 20auto-upgrades and 50unattended-upgrades in apt.conf.d
// with the parts named in more.
func aptParts(t *testing.T, more []string) *host.Fake {
	return apt().AddStat(unattendedPath, present, nil).
		AddDir("/etc/apt/apt.conf.d", append([]string{"20auto-upgrades", "50unattended-upgrades"}, more...), nil).
		AddFile("/etc/apt/apt.conf.d/20auto-upgrades", checktest.Testdata(t, "linux", "20auto-upgrades__ubuntu_default.txt")).
		AddFile("/etc/apt/apt.conf.d/50unattended-upgrades", checktest.Testdata(t, "linux", "50unattended-upgrades__debian_2.9.1.txt"))
}

func TestCollectAndEvaluate(t *testing.T) {
	dump := func(name string) []string { return []string{aptConfigPath, "dump"} }
	reg := func(n uint64) host.RegistryValue { return host.RegistryValue{Type: "REG_DWORD", Integer: n} }
	win := func() *host.Fake {
		return host.NewFake("windows", "amd64").AddRegistry(wuauservKey, "Start", reg(3), nil)
	}
	tests := []struct {
		name      string
		h         *host.Fake
		require   string
		want      checks.Status
		wantInSum string
	}{
		// Linux.
		{"unattended-upgrades on under systemd passes", apt().
			AddRun(dump(""), host.Output{Stdout: checktest.Testdata(t, "linux", "apt-config__unattended_on.txt")}, nil).
			AddStat(unattendedPath, present, nil),
			LevelInstall, checks.StatusPass, "installs updates automatically"},
		{"Debian's real default configuration fails", apt().
			AddRun(dump(""), host.Output{Stdout: checktest.Testdata(t, "linux", "apt-config__debian12_default.txt")}, nil),
			LevelDownload, checks.StatusFail, "Unattended-Upgrade is not enabled"},
		{"a masked apt-daily-upgrade timer fails", apt().
			AddRun(dump(""), host.Output{Stdout: checktest.Testdata(t, "linux", "apt-config__unattended_on.txt")}, nil).
			AddStat(unattendedPath, present, nil).
			AddStat(systemdEtc+"apt-daily-upgrade.timer", link("/dev/null"), nil),
			LevelDownload, checks.StatusFail, "disabled or masked"},
		{"without apt-config the conf.d files are read, nested syntax included", apt().
			AddDir("/etc/apt/apt.conf.d", []string{"20auto-upgrades", "99local", "50unattended-upgrades.dpkg-old"}, nil).
			AddFile("/etc/apt/apt.conf.d/20auto-upgrades", checktest.Testdata(t, "linux", "20auto-upgrades__ubuntu_default.txt")).
			AddFile("/etc/apt/apt.conf.d/99local", checktest.Testdata(t, "linux", "99local__nested_download.txt")).
			AddFile("/etc/apt/apt.conf.d/50unattended-upgrades.dpkg-old", []byte(`APT::Periodic::Enable "0";`)),
			LevelDownload, checks.StatusPass, "package is not installed"},
		{"without apt-config the real parts turning unattended-upgrades on pass", aptParts(t, nil),
			LevelInstall, checks.StatusPass, "installs updates automatically"},
		{"without apt-config apt.conf is read after the parts, as apt reads it, so its setting wins", aptParts(t, nil).
			AddFile("/etc/apt/apt.conf", []byte(`APT::Periodic::Unattended-Upgrade "0";`)),
			LevelDownload, checks.StatusFail, "neither downloads nor installs updates"},
		{"without apt-config a part's Dir::Etc::main is the main file read", aptParts(t, []string{"00site"}).
			AddFile("/etc/apt/apt.conf.d/00site", []byte(`Dir::Etc::main "site.conf";`)).
			AddFile("/etc/apt/site.conf", []byte(`APT::Periodic::Unattended-Upgrade "0";`)).
			AddFile("/etc/apt/apt.conf", []byte(`APT::Periodic::Unattended-Upgrade "1";`)),
			LevelDownload, checks.StatusFail, "neither downloads nor installs updates"},
		{"without apt-config a part that cannot be read is unknown: it may be the one turning updates off", aptParts(t, []string{"99local"}).
			AddFileError("/etc/apt/apt.conf.d/99local", host.Wrap(host.ErrPermission, errors.New("open /etc/apt/apt.conf.d/99local: permission denied"))),
			LevelDownload, checks.StatusUnknown, "99local: permission denied"},
		{"without systemd, unattended-upgrades run by cron's apt-compat passes while cron runs", host.NewFake("linux", "amd64").
			AddStat(aptGetPath, present, nil).AddStat(unattendedPath, present, nil).AddStat(aptCompatCron, present, nil).
			AddStat("/usr/sbin/cron", present, nil).
			AddGlob("/proc/[0-9]*/comm", []string{"/proc/1/comm", "/proc/40/comm"}, nil).
			AddFile("/proc/1/comm", []byte("init\n")).AddFile("/proc/40/comm", []byte("cron\n")).
			AddRun(dump(""), host.Output{Stdout: checktest.Testdata(t, "linux", "apt-config__unattended_on.txt")}, nil),
			LevelInstall, checks.StatusPass, "installs updates automatically"},
		{"without systemd and without a cron daemon, apt-compat never runs, so nothing is installed", host.NewFake("linux", "amd64").
			AddStat(aptGetPath, present, nil).AddStat(unattendedPath, present, nil).AddStat(aptCompatCron, present, nil).
			AddRun(dump(""), host.Output{Stdout: checktest.Testdata(t, "linux", "apt-config__unattended_on.txt")}, nil),
			LevelDownload, checks.StatusFail, "nothing runs it: systemd is not the init and cron does not run"},
		{"dnf-automatic that only downloads fails a policy requiring install", host.NewFake("linux", "amd64").
			AddFile(dnfAutomaticConf, checktest.Testdata(t, "linux", "automatic.conf__download_only.txt")).
			AddStat(systemdRunDir, host.FileInfo{Name: "system", Mode: fs.ModeDir | 0o755}, nil).
			AddStat(timersWants+"dnf-automatic.timer", link("/usr/lib/systemd/system/dnf-automatic.timer"), nil),
			LevelInstall, checks.StatusFail, "apply_updates is no"},
		{"an enabled dnf-automatic-install.timer where systemd is not the init runs nothing", host.NewFake("linux", "amd64").
			AddFile(dnfAutomaticConf, checktest.Testdata(t, "linux", "automatic.conf__download_only.txt")).
			AddStat(timersWants+"dnf-automatic-install.timer", link("/usr/lib/systemd/system/dnf-automatic-install.timer"), nil),
			LevelDownload, checks.StatusFail, "dnf-automatic"},
		{"GNOME Software alone is weak evidence and fails", host.NewFake("linux", "amd64").
			AddStat(gnomeSoftware, present, nil),
			LevelDownload, checks.StatusFail, "GNOME Software"},
		{"no mechanism at all fails and says what was checked", host.NewFake("linux", "amd64"),
			LevelDownload, checks.StatusFail, "no automatic update mechanism was found"},
		{"an unreadable apt configuration is unknown", apt().
			AddRun(dump(""), host.Output{}, host.Wrap(host.ErrTimeout, errors.New("run /usr/bin/apt-config: context deadline exceeded"))).
			AddDir("/etc/apt/apt.conf.d", nil, host.Wrap(host.ErrPermission, errors.New("open /etc/apt/apt.conf.d: permission denied"))),
			LevelDownload, checks.StatusUnknown, "permission denied"},
		// Windows.
		{"Windows with no policy installs automatically", win(),
			LevelInstall, checks.StatusPass, "no update policy is set"},
		{"Group Policy NoAutoUpdate fails", win().AddRegistry(auPolicyKey, "NoAutoUpdate", reg(1), nil).AddRegistry(auPolicyKey, "AUOptions", reg(4), nil),
			LevelDownload, checks.StatusFail, "NoAutoUpdate is 1"},
		{"AUOptions 3 downloads and passes the default policy", win().AddRegistry(auPolicyKey, "AUOptions", reg(3), nil),
			LevelDownload, checks.StatusPass, "AUOptions 3"},
		{"an MDM policy turning updates off wins over a lenient Group Policy", win().AddRegistry(auPolicyKey, "AUOptions", reg(4), nil).AddRegistry(mdmUpdateKey, "AllowAutoUpdate", reg(5), nil),
			LevelDownload, checks.StatusFail, "AllowAutoUpdate 5"},
		{"a disabled wuauserv fails", host.NewFake("windows", "amd64").AddRegistry(wuauservKey, "Start", reg(4), nil),
			LevelDownload, checks.StatusFail, "wuauserv) is disabled"},
		{"paused updates fail until the pause ends", win().AddRegistry(uxSettingsKey, "PauseUpdatesExpiryTime", host.RegistryValue{Type: "REG_SZ", String: "2026-12-14T09:00:00Z"}, nil),
			LevelDownload, checks.StatusFail, "paused until 2026-12-14"},
		{"a policy key the agent may not read is unknown", win().AddRegistry(auPolicyKey, "NoAutoUpdate", host.RegistryValue{}, host.Wrap(host.ErrPermission, errors.New("Access is denied."))),
			LevelDownload, checks.StatusUnknown, "Access is denied"},
		// macOS.
		{"a Mac that downloads and installs security responses passes", host.NewFake("darwin", "arm64").
			AddFile(suPlist, checktest.Testdata(t, "darwin", "com.apple.SoftwareUpdate__download_only.txt")),
			LevelDownload, checks.StatusPass, "installs security responses automatically"},
		{"the same Mac fails a policy requiring automatic installs", host.NewFake("darwin", "arm64").
			AddFile(suPlist, checktest.Testdata(t, "darwin", "com.apple.SoftwareUpdate__download_only.txt")),
			LevelInstall, checks.StatusFail, "macOS updates wait for the user"},
		{"a managed profile turning checks off wins", host.NewFake("darwin", "arm64").
			AddFile(suPlist, checktest.Testdata(t, "darwin", "com.apple.SoftwareUpdate__download_only.txt")).
			AddFile(suManagedPlist, checktest.Testdata(t, "darwin", "managed-SoftwareUpdate__check_off.txt")),
			LevelDownload, checks.StatusFail, "checking for updates is off"},
		{"preferences stored as integers count: CriticalUpdateInstall 0 turns security responses off", host.NewFake("darwin", "arm64").
			AddFile(suPlist, checktest.Testdata(t, "darwin", "com.apple.SoftwareUpdate__integers_handwritten.txt")),
			LevelDownload, checks.StatusFail, "security responses and system data files are not installed automatically"},
		{"a Mac without the preferences file asks softwareupdate", host.NewFake("darwin", "arm64").
			AddRun([]string{softwareUpdate, "--schedule"}, host.Output{Stdout: checktest.Testdata(t, "darwin", "softwareupdate-schedule__on.txt")}, nil),
			LevelDownload, checks.StatusPass, "installs security responses"},
		{"a Mac with neither the file nor softwareupdate is unknown", host.NewFake("darwin", "arm64"),
			LevelDownload, checks.StatusUnknown, "softwareupdate --schedule gave no answer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, b := checktest.Replay(t, tc.h, Collect, Evaluate, checks.EvalInput{Thresholds: &Thresholds{Require: tc.require}, Now: now})
			checktest.Expect(t, res, tc.want, tc.wantInSum, b)
		})
	}
}

func TestThresholdsValidate(t *testing.T) {
	for _, tc := range []struct {
		require string
		ok      bool
	}{{LevelDownload, true}, {LevelInstall, true}, {"notify", false}, {"", false}} {
		t.Run("require "+tc.require, func(t *testing.T) {
			if err := (&Thresholds{Require: tc.require}).Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate() = %v", err)
			}
		})
	}
}

func TestPolicyFileSetsTheLevel(t *testing.T) {
	p, err := checks.ParsePolicy([]byte("controls:\n  os_auto_update:\n    require: install\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Thresholds(checks.OSAutoUpdate).(*Thresholds).Require; got != LevelInstall {
		t.Errorf("require = %q", got)
	}
	if _, err := checks.ParsePolicy([]byte("controls:\n  os_auto_update:\n    require: sometimes\n")); err == nil {
		t.Error("a bad level was accepted")
	}
}
