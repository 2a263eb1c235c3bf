package screenlock

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

func TestUnreadableUncompiledSystemDatabaseIsUnknown(t *testing.T) {
	const dir = "/etc/dconf/db/local.d"
	local := func() *host.Fake {
		return gnomeHost(t).
			AddFile("/etc/dconf/profile/user", checktest.Testdata(t, "linux", "dconf-profile__user_local.txt")).
			AddGlob(dir+"/*", []string{dir + "/00-screensaver", dir + "/10-site", dir + "/locks"}, nil).
			AddStat(dir+"/locks", host.FileInfo{Name: "locks", Mode: fs.ModeDir | 0o755}, nil).
			AddFile(dir+"/00-screensaver", checktest.Testdata(t, "linux", "dconf-keyfile__local_600.txt")).
			AddGlob(dir+"/locks/*", []string{dir + "/locks/screensaver"}, nil).
			AddFile(dir+"/locks/screensaver", checktest.Testdata(t, "linux", "dconf-locks__local.txt"))
	}
	tests := []struct {
		name       string
		host       *host.Fake
		wantStatus checks.Status
		wantInSum  string
	}{
		{"the readable keyfiles pass", local().AddFile(dir+"/10-site", []byte("[org/gnome/desktop/screensaver]\nlock-delay=uint32 0\n")),
			checks.StatusPass, "10 min idle"},
		{"a keyfile that cannot be read is unknown: it may be the one turning the lock off",
			local().AddFileError(dir+"/10-site", host.Wrap(host.ErrPermission, nil)),
			checks.StatusUnknown, "10-site"},
		{"a lock file that cannot be read is unknown: it may be the one keeping the user's database out",
			local().AddFile(dir+"/10-site", []byte("\n")).AddFileError(dir+"/locks/screensaver", host.Wrap(host.ErrPermission, nil)),
			checks.StatusUnknown, "locks/screensaver"},
		{"a locks directory that cannot be listed is unknown",
			local().AddFile(dir+"/10-site", []byte("\n")).AddGlob(dir+"/locks/*", nil, host.Wrap(host.ErrPermission, nil)),
			checks.StatusUnknown, "locks"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, f := collectAndEvaluate(t, tc.host)
			if res.Status != tc.wantStatus || !strings.Contains(res.Summary, tc.wantInSum) {
				t.Errorf("got %s %q, want %s with %q\nfacts %+v", res.Status, res.Summary, tc.wantStatus, tc.wantInSum, f)
			}
		})
	}
}

func TestUnreadableSchemaOverrideIsUnknown(t *testing.T) {
	const glob = "/usr/share/glib-2.0/schemas/*.gschema.override"
	const file = "/usr/share/glib-2.0/schemas/10_vendor.gschema.override"
	tests := []struct {
		name       string
		host       *host.Fake
		wantStatus checks.Status
		wantInSum  string
	}{
		{"an override file that cannot be read is unknown: it may change the default lock",
			gnomeHost(t).AddGlob(glob, []string{file}, nil).AddFileError(file, host.Wrap(host.ErrPermission, nil)),
			checks.StatusUnknown, "10_vendor.gschema.override"},
		{"schemas that cannot be listed are unknown",
			gnomeHost(t).AddGlob(glob, nil, host.Wrap(host.ErrPermission, nil)),
			checks.StatusUnknown, "gschema.override"},
		{"an override that vanished between listing and reading is skipped",
			gnomeHost(t).AddGlob(glob, []string{file}, nil),
			checks.StatusPass, "5 min idle"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, f := collectAndEvaluate(t, tc.host)
			if res.Status != tc.wantStatus || !strings.Contains(res.Summary, tc.wantInSum) {
				t.Errorf("got %s %q, want %s with %q\nfacts %+v", res.Status, res.Summary, tc.wantStatus, tc.wantInSum, f)
			}
		})
	}
}
