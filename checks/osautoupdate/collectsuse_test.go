package osautoupdate

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// suse is an openSUSE host under systemd with zypper and cron.
func suse() *host.Fake {
	return host.NewFake("linux", "amd64").
		AddStat(zypperPath, present, nil).
		AddStat(cronDaemon, present, nil).
		AddStat(systemdRunDir, host.FileInfo{Name: "system", Mode: fs.ModeDir | 0o755}, nil)
}

const yastScript = "/usr/lib/YaST2/bin/online_update"

func TestSUSECollectAndEvaluate(t *testing.T) {
	daily := func(h *host.Fake) *host.Fake {
		return h.AddStat("/etc/cron.daily/"+aouCronName, link(yastScript), nil)
	}
	conf := func(h *host.Fake, name string) *host.Fake {
		return h.AddFile(aouSysconfig, checktest.Testdata(t, "linux", name))
	}
	tests := []struct {
		name      string
		h         *host.Fake
		require   string
		want      checks.Status
		wantInSum string
	}{
		{"a daily YaST online update of security patches passes", daily(conf(suse(), "automatic_online_update__daily_security_handwritten.txt")),
			LevelInstall, checks.StatusPass, "installs needed patches daily (interactive patches"},
		{"YaST online update turned off fails", conf(suse(), "automatic_online_update__disabled_handwritten.txt"),
			LevelDownload, checks.StatusFail, "AOU_ENABLE_CRONJOB is not true"},
		{"an enabled update without its cron job fails", conf(suse(), "automatic_online_update__daily_security_handwritten.txt"),
			LevelDownload, checks.StatusFail, "no online_update job is linked"},
		{"a cron job on a system without cron fails", daily(conf(host.NewFake("linux", "amd64").AddStat(zypperPath, present, nil), "automatic_online_update__daily_security_handwritten.txt")),
			LevelDownload, checks.StatusFail, "cron is not installed"},
		{"an update limited to recommended patches fails", daily(suse().AddFile(aouSysconfig, []byte("AOU_ENABLE_CRONJOB=\"true\"\nAOU_PATCH_CATEGORIES=\"recommended optional\"\n"))),
			LevelDownload, checks.StatusFail, "installs only recommended, optional patches"},
		{"an unreadable sysconfig file is unknown", suse().AddFileError(aouSysconfig, host.Wrap(host.ErrPermission, errors.New("open /etc/sysconfig/automatic_online_update: permission denied"))),
			LevelDownload, checks.StatusUnknown, "permission denied"},
		{"MicroOS's enabled transactional-update timer passes", suse().
			AddStat(transactionalUpdate, present, nil).
			AddStat(timersWants+"transactional-update.timer", link("/usr/lib/systemd/system/transactional-update.timer"), nil),
			LevelInstall, checks.StatusPass, "new snapshot"},
		{"os-update installed with its timer off fails and says how to enable it", suse().
			AddFile(osUpdateVendorConf, []byte("UPDATE_CMD=auto\n")),
			LevelDownload, checks.StatusFail, "os-update.timer is not enabled"},
		{"zypper with no updater configured fails", suse(),
			LevelDownload, checks.StatusFail, "YaST automatic online update (not configured"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, b := checktest.Replay(t, tc.h, Collect, Evaluate, checks.EvalInput{Thresholds: &Thresholds{Require: tc.require}, Now: now})
			checktest.Expect(t, res, tc.want, tc.wantInSum, b)
			if res.Status == checks.StatusFail && !strings.Contains(res.Remediation, "YaST") && !strings.Contains(res.Remediation, ".timer") {
				t.Errorf("remediation %q is not SUSE's", res.Remediation)
			}
		})
	}
}

func TestParseSysconfig(t *testing.T) {
	got := parseSysconfig([]byte("# comment\nA=\"x y\"\r\nB='z'\nC=bare\n  D = \"\" \nnot a line\n"))
	want := map[string]string{"A": "x y", "B": "z", "C": "bare", "D": ""}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %v", got)
	}
}
