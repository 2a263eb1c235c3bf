package antivirus

import (
	"errors"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

var (
	dailyCVD       = "/var/lib/clamav/daily.cvd"
	dailyCLD       = "/var/lib/clamav/daily.cld"
	mainCVD        = "/var/lib/clamav/main.cvd"
	isActiveArgv   = append([]string{systemctlPath, "is-active"}, clamUnits...)
	mdatpLinuxArgv = []string{"/usr/bin/mdatp", "health", "--output", "json"}
	// The real daily.cvd header was built 2017-03-07 13:02:26 UTC.
	clamBuilt = date("2017-03-07T13:02:26Z")
)

func headArgv(p string) []string { return []string{headPath, "-c", "512", p} }

func stat(name string, mt time.Time) host.FileInfo {
	return host.FileInfo{Name: name, Size: 60 << 20, Mode: 0o644, ModTime: mt}
}

// clamHost is a Debian laptop with ClamAV's daily.cvd and the given
// systemctl answer.
func clamHost(t testing.TB, systemctl string) *host.Fake {
	return host.NewFake("linux", "amd64").
		AddStat(dailyCVD, stat("daily.cvd", clamBuilt.Add(2*time.Hour)), nil).
		AddRun(headArgv(dailyCVD), host.Output{Stdout: checktest.Testdata(t, "linux/head__daily_cvd_2017.txt")}, nil).
		AddRun(isActiveArgv, host.Output{Stdout: checktest.Testdata(t, "linux/systemctl__"+systemctl+".txt")}, nil)
}

// withCron adds a running cron daemon.
func withCron(h *host.Fake) *host.Fake {
	return h.AddStat("/usr/sbin/cron", stat("cron", clamBuilt), nil).
		AddGlob("/proc/[0-9]*/comm", []string{"/proc/1/comm", "/proc/312/comm"}, nil).
		AddFile("/proc/1/comm", []byte("init\n")).AddFile("/proc/312/comm", []byte("cron\n"))
}

// noSystemd is clamHost where systemctl cannot answer (no systemd as init).
func noSystemd(t testing.TB) *host.Fake {
	return clamHost(t, "clamonacc_active").
		AddRun(isActiveArgv, host.Output{Stderr: checktest.Testdata(t, "linux/systemctl__no_systemd_stderr.txt"), ExitCode: 1}, nil)
}

// sophosHost is a laptop with Sophos Protection for Linux running and the
// given AV and update status files.
func sophosHost(t testing.TB, sav, alc string) *host.Fake {
	return host.NewFake("linux", "amd64").
		AddStat("/opt/sophos-spl", host.FileInfo{Name: "sophos-spl", Mode: 0o755 | 1<<31}, nil).
		AddRun([]string{systemctlPath, "is-active", splUnit}, host.Output{Stdout: []byte("active\n")}, nil).
		AddFile(splSAVStatus, checktest.Testdata(t, "linux/sophos-sav-status__"+sav+"_handwritten.txt")).
		AddFile(splALCStatus, checktest.Testdata(t, "linux/sophos-alc-status__"+alc+"_handwritten.txt"))
}

func TestCollectLinux(t *testing.T) {
	fresh := clamBuilt.Add(5 * time.Hour)
	stale := clamBuilt.Add(72 * time.Hour)
	mdatpNow := date("2024-06-27T12:00:00Z")
	tests := []struct {
		name           string
		host           *host.Fake
		collected, now time.Time
		want           want
	}{
		{"ClamAV with fresh definitions and on-access scanning passes",
			clamHost(t, "clamonacc_active"), fresh, fresh,
			want{status: checks.StatusPass, summary: []string{"ClamAV", "real-time scanning on", "definitions 5 h old"}}},
		{"ClamAV definitions three days old fail",
			clamHost(t, "clamonacc_active"), stale, stale,
			want{status: checks.StatusFail, summary: []string{"definitions 72 h old (limit 24 h)"}, remediation: "freshclam"}},
		{"ClamAV without on-access scanning or a schedule fails",
			clamHost(t, "clamonacc_inactive"), fresh, fresh,
			want{status: checks.StatusFail, summary: []string{"neither real-time nor scheduled scanning is on"}, remediation: "clamonacc"}},
		{"ClamAV with a nightly clamscan cron job passes",
			withCron(clamHost(t, "clamonacc_inactive")).
				AddGlob("/etc/cron.d/*", []string{"/etc/cron.d/clamscan"}, nil).
				AddFile("/etc/cron.d/clamscan", checktest.Testdata(t, "linux/crontab__clamscan_daily.txt")),
			fresh, fresh,
			want{status: checks.StatusPass, summary: []string{"scheduled scanning on"}}},
		{"a commented-out cron job is not a schedule",
			clamHost(t, "clamonacc_inactive").
				AddGlob("/etc/cron.d/*", []string{"/etc/cron.d/clamscan"}, nil).
				AddFile("/etc/cron.d/clamscan", checktest.Testdata(t, "linux/crontab__commented_out.txt")),
			fresh, fresh,
			want{status: checks.StatusFail}},
		{"the newer daily.cld wins over daily.cvd",
			clamHost(t, "clamonacc_active").
				AddStat(dailyCLD, stat("daily.cld", clamBuilt), nil).
				AddRun(headArgv(dailyCLD), host.Output{Stdout: checktest.Testdata(t, "linux/head__daily_cld_handwritten.txt")}, nil),
			clamBuilt.Add(30 * time.Hour), clamBuilt.Add(30 * time.Hour),
			want{status: checks.StatusPass, summary: []string{"definitions 23.9 h old"}}},
		{"without systemd and without clamonacc or a scheduled scan nothing can scan, which fails",
			clamHost(t, "clamonacc_active").
				AddRun(isActiveArgv, host.Output{Stderr: checktest.Testdata(t, "linux/systemctl__no_systemd_stderr.txt"), ExitCode: 1}, nil),
			fresh, fresh,
			want{status: checks.StatusFail, summary: []string{"neither real-time nor scheduled scanning is on"}}},
		{"without systemd, an installed clamonacc with no process table to read is unknown",
			noSystemd(t).AddStat("/usr/sbin/clamonacc", stat("clamonacc", clamBuilt), nil),
			fresh, fresh,
			want{status: checks.StatusUnknown, summary: []string{"real-time scanning was not reported"}}},
		{"without systemd, a running clamonacc process passes",
			noSystemd(t).AddStat("/usr/sbin/clamonacc", stat("clamonacc", clamBuilt), nil).
				AddGlob("/proc/[0-9]*/comm", []string{"/proc/1/comm", "/proc/27/comm"}, nil).
				AddFile("/proc/1/comm", []byte("sh\n")).AddFile("/proc/27/comm", []byte("clamonacc\n")),
			fresh, fresh,
			want{status: checks.StatusPass, summary: []string{"real-time scanning on"}}},
		{"without systemd, an installed clamonacc that is not running fails",
			noSystemd(t).AddStat("/usr/sbin/clamonacc", stat("clamonacc", clamBuilt), nil).
				AddGlob("/proc/[0-9]*/comm", []string{"/proc/1/comm"}, nil).
				AddFile("/proc/1/comm", []byte("sh\n")),
			fresh, fresh,
			want{status: checks.StatusFail, summary: []string{"neither real-time nor scheduled scanning is on"}}},
		{"a clamscan cron job with no cron daemon installed is no schedule",
			clamHost(t, "clamonacc_inactive").
				AddGlob("/etc/cron.d/*", []string{"/etc/cron.d/clamscan"}, nil).
				AddFile("/etc/cron.d/clamscan", checktest.Testdata(t, "linux/crontab__clamscan_daily.txt")),
			fresh, fresh,
			want{status: checks.StatusFail, summary: []string{"neither real-time nor scheduled scanning is on"}}},
		{"a clamscan cron job whose cron daemon is installed but not running is no schedule",
			clamHost(t, "clamonacc_inactive").
				AddStat("/usr/sbin/cron", stat("cron", clamBuilt), nil).
				AddGlob("/proc/[0-9]*/comm", []string{"/proc/1/comm"}, nil).AddFile("/proc/1/comm", []byte("sh\n")).
				AddGlob("/etc/cron.d/*", []string{"/etc/cron.d/clamscan"}, nil).
				AddFile("/etc/cron.d/clamscan", checktest.Testdata(t, "linux/crontab__clamscan_daily.txt")),
			fresh, fresh,
			want{status: checks.StatusFail, summary: []string{"neither real-time nor scheduled scanning is on"}}},
		{"a systemd timer for clamscan where systemd is not running is no schedule",
			clamHost(t, "clamonacc_inactive").
				AddGlob("/etc/systemd/system/*.service", []string{"/etc/systemd/system/clamscan.service"}, nil).
				AddFile("/etc/systemd/system/clamscan.service", []byte("[Service]\nExecStart=/usr/bin/clamscan -ri /home\n")).
				AddStat("/etc/systemd/system/clamscan.timer", stat("clamscan.timer", clamBuilt), nil),
			fresh, fresh,
			want{status: checks.StatusFail, summary: []string{"neither real-time nor scheduled scanning is on"}}},
		{"DatabaseDirectory in freshclam.conf moves the definitions that are judged",
			withCron(noSystemd(t)).
				AddFile("/etc/clamav/freshclam.conf", append(checktest.Testdata(t, "linux/freshclam.conf__debian12.txt"), "DatabaseDirectory /srv/clamav\n"...)).
				AddStat("/srv/clamav/daily.cld", stat("daily.cld", clamBuilt.Add(70*time.Hour)), nil).
				AddRun(headArgv("/srv/clamav/daily.cld"), host.Output{Stdout: checktest.Testdata(t, "linux/head__daily_cld_handwritten.txt")}, nil).
				AddGlob("/etc/cron.d/*", []string{"/etc/cron.d/clamscan"}, nil).
				AddFile("/etc/cron.d/clamscan", checktest.Testdata(t, "linux/crontab__clamscan_daily.txt")),
			clamBuilt.Add(28 * time.Hour), clamBuilt.Add(28 * time.Hour),
			want{status: checks.StatusPass, summary: []string{"scheduled scanning on", "definitions 21.9 h old"}}},
		{"freshclam.conf and clamd.conf naming different directories: the staler one is judged",
			withCron(noSystemd(t)).
				AddFile("/etc/clamav/freshclam.conf", append(checktest.Testdata(t, "linux/freshclam.conf__debian12.txt"), "DatabaseDirectory /srv/clamav\n"...)).
				AddFile("/etc/clamav/clamd.conf", checktest.Testdata(t, "linux/clamd.conf__debian12.txt")).
				AddStat("/srv/clamav/daily.cld", stat("daily.cld", clamBuilt.Add(70*time.Hour)), nil).
				AddRun(headArgv("/srv/clamav/daily.cld"), host.Output{Stdout: checktest.Testdata(t, "linux/head__daily_cld_handwritten.txt")}, nil).
				AddGlob("/etc/cron.d/*", []string{"/etc/cron.d/clamscan"}, nil).
				AddFile("/etc/cron.d/clamscan", checktest.Testdata(t, "linux/crontab__clamscan_daily.txt")),
			clamBuilt.Add(28 * time.Hour), clamBuilt.Add(28 * time.Hour),
			want{status: checks.StatusFail, summary: []string{"definitions 28 h old"}}},
		{"a database whose header cannot be read falls back to its modification time",
			host.NewFake("linux", "amd64").
				AddStat(dailyCVD, stat("daily.cvd", clamBuilt.Add(2*time.Hour)), nil).
				AddRun(headArgv(dailyCVD), host.Output{Stdout: checktest.Testdata(t, "linux/head__not_a_database.txt")}, nil).
				AddRun(isActiveArgv, host.Output{Stdout: checktest.Testdata(t, "linux/systemctl__clamonacc_active.txt")}, nil),
			fresh, fresh,
			want{status: checks.StatusPass, summary: []string{"definitions 3 h old"}}},
		{"ClamAV installed without any database fails",
			host.NewFake("linux", "amd64").
				AddStat("/usr/bin/clamscan", stat("clamscan", clamBuilt), nil).
				AddRun(isActiveArgv, host.Output{Stdout: checktest.Testdata(t, "linux/systemctl__clamonacc_active.txt")}, nil),
			fresh, fresh,
			want{status: checks.StatusFail, summary: []string{"definitions out of date (no ClamAV database"}}},
		{"nothing installed fails with how to install ClamAV",
			host.NewFake("linux", "amd64"), fresh, fresh,
			want{status: checks.StatusFail, summary: []string{"no anti-virus product was found"}, remediation: "apt install"}},
		{"an unreadable database directory makes no product unknown",
			host.NewFake("linux", "amd64").
				AddStat(dailyCVD, host.FileInfo{}, host.Wrap(host.ErrPermission, errors.New("lstat /var/lib/clamav/daily.cvd: permission denied"))),
			fresh, fresh,
			want{status: checks.StatusUnknown, summary: []string{"permission denied"}}},
		{"Defender for Endpoint, healthy and current, passes",
			host.NewFake("linux", "amd64").
				AddStat("/usr/bin/mdatp", stat("mdatp", mdatpNow), nil).
				AddRun(mdatpLinuxArgv, host.Output{Stdout: checktest.Testdata(t, "linux/mdatp__healthy_handwritten.txt")}, nil),
			mdatpNow, mdatpNow,
			want{status: checks.StatusPass, summary: []string{"Microsoft Defender for Endpoint", "definitions 2.7 h old"}}},
		{"Defender for Endpoint in passive mode fails although real-time is on",
			host.NewFake("linux", "amd64").
				AddStat("/usr/bin/mdatp", stat("mdatp", mdatpNow), nil).
				AddRun(mdatpLinuxArgv, host.Output{Stdout: checktest.Testdata(t, "linux/mdatp__passive_handwritten.txt")}, nil),
			mdatpNow, mdatpNow,
			want{status: checks.StatusFail, summary: []string{"passive mode"}, remediation: "passive"}},
		{"Defender for Endpoint with five-day-old definitions fails",
			host.NewFake("linux", "amd64").
				AddStat("/usr/bin/mdatp", stat("mdatp", mdatpNow), nil).
				AddRun(mdatpLinuxArgv, host.Output{Stdout: checktest.Testdata(t, "linux/mdatp__old_definitions_handwritten.txt")}, nil),
			mdatpNow, mdatpNow,
			want{status: checks.StatusFail, summary: []string{"definitions 122.7 h old"}, remediation: "mdatp definitions update"}},
		{"an older mdatp's snake_case output after a notice is read, its age counted from collection",
			host.NewFake("linux", "amd64").
				AddStat("/usr/bin/mdatp", stat("mdatp", mdatpNow), nil).
				AddRun(mdatpLinuxArgv, host.Output{Stdout: checktest.Testdata(t, "linux/mdatp__snake_case_handwritten.txt")}, nil),
			mdatpNow, mdatpNow.Add(90 * time.Minute),
			want{status: checks.StatusPass, summary: []string{"definitions 2 h old"}}},
		{"a stopped mdatp daemon is unknown with its error",
			host.NewFake("linux", "amd64").
				AddStat("/usr/bin/mdatp", stat("mdatp", mdatpNow), nil).
				AddRun(mdatpLinuxArgv, host.Output{Stderr: checktest.Testdata(t, "linux/mdatp__daemon_down_stderr.txt"), ExitCode: 1}, nil),
			mdatpNow, mdatpNow,
			want{status: checks.StatusUnknown, summary: []string{"Could not connect to daemon"}}},
		{"mdatp timing out is unknown and says so",
			host.NewFake("linux", "amd64").
				AddStat("/usr/bin/mdatp", stat("mdatp", mdatpNow), nil).
				AddRun(mdatpLinuxArgv, host.Output{}, host.Wrap(host.ErrTimeout, errors.New("run /usr/bin/mdatp: context deadline exceeded"))),
			mdatpNow, mdatpNow,
			want{status: checks.StatusUnknown, summary: []string{"timed out"}}},
		{"CrowdStrike Falcon in full functionality passes on its own state",
			host.NewFake("linux", "amd64").
				AddStat(falconctlPaths["linux"], stat("falconctl", mdatpNow), nil).
				AddRun([]string{falconctlPaths["linux"], "-g", "--rfm-state"}, host.Output{Stdout: checktest.Testdata(t, "linux/falconctl__rfm_false.txt")}, nil).
				AddRun([]string{systemctlPath, "is-active", "falcon-sensor.service"}, host.Output{Stdout: []byte("active\n")}, nil),
			mdatpNow, mdatpNow,
			want{status: checks.StatusPass, summary: []string{"CrowdStrike Falcon", "no local definitions to age (cloud-delivered detection)"}}},
		{"CrowdStrike Falcon in reduced functionality mode fails",
			host.NewFake("linux", "amd64").
				AddStat(falconctlPaths["linux"], stat("falconctl", mdatpNow), nil).
				AddRun([]string{falconctlPaths["linux"], "-g", "--rfm-state"}, host.Output{Stdout: checktest.Testdata(t, "linux/falconctl__rfm_true.txt")}, nil),
			mdatpNow, mdatpNow,
			want{status: checks.StatusFail, summary: []string{"rfm-state=true"}, remediation: "CrowdStrike"}},
		{"Sophos scanning on access and updated 2.8 hours ago passes",
			sophosHost(t, "on_access_true", "good"), mdatpNow, mdatpNow,
			want{status: checks.StatusPass, summary: []string{"Sophos Protection for Linux", "real-time scanning on", "current as of a check 2.8 h ago"}}},
		{"Sophos with on-access scanning off fails",
			sophosHost(t, "on_access_false", "good"), mdatpNow, mdatpNow,
			want{status: checks.StatusFail, summary: []string{"real-time scanning is off"}, remediation: "real-time scanning on"}},
		{"Sophos whose updates have failed for six days fails on its own report",
			sophosHost(t, "on_access_true", "bad"), mdatpNow, mdatpNow,
			want{status: checks.StatusFail, summary: []string{"updates have failed since 2024-06-21T08:00:12Z"}, remediation: "Sophos Central"}},
		{"Sophos without its status files is unknown and names them",
			host.NewFake("linux", "amd64").
				AddStat("/opt/sophos-spl", host.FileInfo{Name: "sophos-spl", Mode: 0o755 | 1<<31}, nil),
			mdatpNow, mdatpNow,
			want{status: checks.StatusUnknown, summary: []string{"SAV_status.xml is missing", "ALC_status.xml is missing"}}},
		{"Sophos status files the agent may not read are unknown with the reason",
			host.NewFake("linux", "amd64").
				AddStat("/opt/sophos-spl", host.FileInfo{Name: "sophos-spl", Mode: 0o755 | 1<<31}, nil).
				AddFileError(splSAVStatus, host.Wrap(host.ErrPermission, errors.New("open "+splSAVStatus+": permission denied"))).
				AddFile(splALCStatus, checktest.Testdata(t, "linux/sophos-alc-status__good_handwritten.txt")),
			mdatpNow, mdatpNow,
			want{status: checks.StatusUnknown, summary: []string{"permission denied (the agent is not running as root)"}}},
		{"Sophos with a stopped service fails",
			sophosHost(t, "on_access_true", "good").
				AddRun([]string{systemctlPath, "is-active", splUnit}, host.Output{Stdout: []byte("inactive\n"), ExitCode: 3}, nil),
			mdatpNow, mdatpNow,
			want{status: checks.StatusFail, summary: []string{"not running (systemctl is-active sophos-spl.service: inactive)"}}},
		{"Defender for Endpoint's text output (no JSON) from a licensed 2020 build passes",
			host.NewFake("linux", "amd64").
				AddStat("/usr/bin/mdatp", stat("mdatp", mdatpNow), nil).
				AddRun(mdatpLinuxArgv, host.Output{Stdout: checktest.Testdata(t, "linux/mdatp-health-text__licensed_issue6154.txt")}, nil),
			date("2020-03-04T12:50:49Z"), date("2020-03-04T13:00:00Z"),
			want{status: checks.StatusPass, summary: []string{"real-time scanning on", "definitions 0.9 h old"}}},
		{"Defender for Endpoint's text output from an unlicensed build fails",
			host.NewFake("linux", "amd64").
				AddStat("/usr/bin/mdatp", stat("mdatp", mdatpNow), nil).
				AddRun(mdatpLinuxArgv, host.Output{Stdout: checktest.Testdata(t, "linux/mdatp-health-text__unlicensed_issue3.txt")}, nil),
			date("2020-07-01T12:30:00Z"), date("2020-07-01T12:30:00Z"),
			want{status: checks.StatusFail, summary: []string{"licensed=false", "unhealthy", "real-time scanning is off"}}},
		{"Sophos next to a passing ClamAV passes",
			clamHost(t, "clamonacc_active").
				AddStat("/opt/sophos-spl", host.FileInfo{Name: "sophos-spl", Mode: 0o755 | 1<<31}, nil),
			fresh, fresh,
			want{status: checks.StatusPass, summary: []string{"ClamAV"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check(t, tc.host, tc.collected, tc.now, nil, tc.want)
		})
	}
}
