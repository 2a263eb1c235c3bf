package osautoupdate

import (
	"context"
	"encoding/json"
	"io/fs"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// TestRealPackageConfigurations replays apt-config dumps and shipped
// configuration files of unattended-upgrades and dnf-automatic (real
// samples, testdata/README.md cites each).
func TestRealPackageConfigurations(t *testing.T) {
	dump := []string{aptConfigPath, "dump"}
	confd := func(auto string) *host.Fake {
		return apt().
			AddDir("/etc/apt/apt.conf.d", []string{"20auto-upgrades", "50unattended-upgrades"}, nil).
			AddFile("/etc/apt/apt.conf.d/20auto-upgrades", checktest.Testdata(t, "linux", auto)).
			AddFile("/etc/apt/apt.conf.d/50unattended-upgrades", checktest.Testdata(t, "linux", "50unattended-upgrades__debian_2.9.1.txt")).
			AddStat(unattendedPath, present, nil)
	}
	dnfTimer := func(h *host.Fake, timer string) *host.Fake {
		return h.AddStat(timersWants+timer, link("/usr/lib/systemd/system/"+timer), nil).
			AddStat(systemdRunDir, host.FileInfo{Name: "system", Mode: fs.ModeDir | 0o755}, nil)
	}
	rpm := func() *host.Fake { return host.NewFake("linux", "amd64") }
	// dnfUnits enables dnf-automatic.timer with dnf4's shipped
	// dnf-automatic.service and .timer in /usr/lib/systemd/system and
	// each drop-in (testdata "UNIT.d-override.conf__...") as
	// /etc/systemd/system/UNIT.d/override.conf, as `systemctl edit` writes.
	dnfUnits := func(t *testing.T, h *host.Fake, dropins ...string) *host.Fake {
		h = dnfTimer(h, "dnf-automatic.timer").
			AddFile("/usr/lib/systemd/system/dnf-automatic.service", checktest.Testdata(t, "linux", "dnf-automatic.service__dnf4_shipped.txt")).
			AddFile("/usr/lib/systemd/system/dnf-automatic.timer", checktest.Testdata(t, "linux", "dnf-automatic.timer__dnf4_shipped.txt"))
		for _, d := range dropins {
			dir := "/etc/systemd/system/" + strings.SplitN(d, "-override.conf__", 2)[0]
			h.AddGlob(dir+"/*.conf", []string{dir + "/override.conf"}, nil).AddFile(dir+"/override.conf", checktest.Testdata(t, "linux", d))
		}
		return h
	}
	// A local override as an administrator writes it (hand-written).
	dnf5Override := []byte("[commands]\napply_updates = yes\n")
	tests := []struct {
		name      string
		h         *host.Fake
		require   string
		wantLevel string
		want      checks.Status
		wantInSum string
	}{
		// apt, from apt-config dump.
		{"unattended-upgrades enabled through its debconf answer installs updates", apt().
			AddRun(dump, host.Output{Stdout: checktest.Testdata(t, "linux", "apt-config__debian12_unattended_enabled.txt")}, nil).
			AddStat(unattendedPath, present, nil),
			LevelInstall, LevelInstall, checks.StatusPass, "installs updates automatically"},
		{"unattended-upgrades installed but answered no is off", apt().
			AddRun(dump, host.Output{Stdout: checktest.Testdata(t, "linux", "apt-config__debian12_unattended_disabled.txt")}, nil).
			AddStat(unattendedPath, present, nil),
			LevelDownload, LevelOff, checks.StatusFail, "Unattended-Upgrade is not enabled"},
		// apt, from the shipped files when apt-config cannot run.
		{"the shipped 20auto-upgrades and 50unattended-upgrades read directly install updates", confd("20auto-upgrades__ubuntu_default.txt"),
			LevelInstall, LevelInstall, checks.StatusPass, "installs updates automatically"},
		{"the shipped 20auto-upgrades-disabled read directly is off", confd("20auto-upgrades-disabled__debian_2.9.1.txt"),
			LevelDownload, LevelOff, checks.StatusFail, "Unattended-Upgrade is not enabled"},
		{"unattended-upgrades with its origins cleared by #clear installs nothing (apt-config dump)", apt().
			AddRun(dump, host.Output{Stdout: checktest.Testdata(t, "linux", "apt-config__debian12_origins_cleared.txt")}, nil).
			AddStat(unattendedPath, present, nil),
			LevelInstall, LevelNotify, checks.StatusFail, "installs nothing"},
		{"unattended-upgrades with its origins cleared by #clear installs nothing (files read directly)", confd("20auto-upgrades__ubuntu_default.txt").
			AddDir("/etc/apt/apt.conf.d", []string{"20auto-upgrades", "50unattended-upgrades", "99-no-origins"}, nil).
			AddFile("/etc/apt/apt.conf.d/99-no-origins", []byte("// Local: no automatic installs from any origin.\n#clear Unattended-Upgrade::Origins-Pattern;\n")),
			LevelInstall, LevelNotify, checks.StatusFail, "installs nothing"},
		// dnf4.
		{"dnf4's shipped automatic.conf under dnf-automatic.timer only downloads", dnfTimer(rpm().
			AddFile(dnfAutomaticConf, checktest.Testdata(t, "linux", "automatic.conf__dnf4_shipped.txt")), "dnf-automatic.timer"),
			LevelInstall, LevelDownload, checks.StatusFail, "apply_updates is no"},
		{"dnf4's shipped automatic.conf under dnf-automatic-install.timer installs", dnfTimer(rpm().
			AddFile(dnfAutomaticConf, checktest.Testdata(t, "linux", "automatic.conf__dnf4_shipped.txt")), "dnf-automatic-install.timer"),
			LevelInstall, LevelInstall, checks.StatusPass, "installs updates automatically"},
		// dnf5.
		{"dnf5's shipped defaults under dnf-automatic.timer only download", dnfTimer(rpm().
			AddStat(dnf5AutomaticShare, present, nil).
			AddFile(dnf5AutomaticShare, checktest.Testdata(t, "linux", "automatic.conf__dnf5_usr_share_shipped.txt")), "dnf-automatic.timer"),
			LevelDownload, LevelDownload, checks.StatusPass, "downloads updates but apply_updates is no"},
		{"a dnf5 override in /etc/dnf/dnf5-plugins wins over the shipped defaults", dnfTimer(rpm().
			AddFile(dnf5AutomaticShare, checktest.Testdata(t, "linux", "automatic.conf__dnf5_usr_share_shipped.txt")).
			AddFile(dnf5AutomaticEtc, dnf5Override), "dnf-automatic.timer"),
			LevelInstall, LevelInstall, checks.StatusPass, "apply_updates = yes"},
		{"a leftover dnf4 automatic.conf is ignored where dnf5 is installed", dnfTimer(rpm().
			AddFile(dnf5AutomaticShare, checktest.Testdata(t, "linux", "automatic.conf__dnf5_usr_share_shipped.txt")).
			AddFile(dnfAutomaticConf, dnf5Override), "dnf-automatic.timer"),
			LevelInstall, LevelDownload, checks.StatusFail, "apply_updates is no"},
		// systemd units: the service's ExecStart names the configuration
		// file and can override it; a drop-in can change either, and a
		// timer drop-in can take the schedule away.
		{"the shipped units on disk with apply_updates = yes install", dnfUnits(t, rpm().
			AddFile(dnfAutomaticConf, dnf5Override)),
			LevelInstall, LevelInstall, checks.StatusPass, "apply_updates = yes"},
		{"a service drop-in that points dnf-automatic at another configuration file is followed", dnfUnits(t, rpm().
			AddFile(dnfAutomaticConf, dnf5Override).
			AddFile("/etc/dnf/automatic-notify.conf", checktest.Testdata(t, "linux", "automatic.conf__dnf4_shipped.txt")),
			"dnf-automatic.service.d-override.conf__other_conf_handwritten.txt"),
			LevelInstall, LevelDownload, checks.StatusFail, "apply_updates is no"},
		{"--no-installupdates in a service drop-in wins over apply_updates = yes", dnfUnits(t, rpm().
			AddFile(dnfAutomaticConf, dnf5Override),
			"dnf-automatic.service.d-override.conf__no_install_handwritten.txt"),
			LevelInstall, LevelDownload, checks.StatusFail, "--no-installupdates"},
		{"a timer drop-in clearing OnCalendar leaves an enabled timer that never runs", dnfUnits(t, rpm().
			AddFile(dnfAutomaticConf, dnf5Override),
			"dnf-automatic.timer.d-override.conf__no_calendar_handwritten.txt"),
			LevelInstall, LevelOff, checks.StatusFail, "never runs"},
		{"an unreadable dnf5 override is unknown", dnfTimer(rpm().
			AddFile(dnf5AutomaticShare, checktest.Testdata(t, "linux", "automatic.conf__dnf5_usr_share_shipped.txt")).
			AddFileError(dnf5AutomaticEtc, host.ErrPermission), "dnf-automatic.timer"),
			LevelDownload, LevelUnknown, checks.StatusUnknown, dnf5AutomaticEtc},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			facts, err := Collect(context.Background(), tc.h)
			if err != nil {
				t.Fatal(err)
			}
			f := facts.(*Facts)
			if len(f.Mechanisms) == 0 || f.Mechanisms[0].Level != tc.wantLevel {
				t.Errorf("mechanisms %+v, want the first at level %s", f.Mechanisms, tc.wantLevel)
			}
			b, err := json.Marshal(facts)
			if err != nil {
				t.Fatal(err)
			}
			res := Evaluate(checks.EvalInput{OS: "linux", Facts: b, Thresholds: &Thresholds{Require: tc.require}, Now: now})
			if res.Status != tc.want || !strings.Contains(res.Summary, tc.wantInSum) {
				t.Errorf("got %s %q, want %s mentioning %q\nfacts %s", res.Status, res.Summary, tc.want, tc.wantInSum, b)
			}
		})
	}
}
