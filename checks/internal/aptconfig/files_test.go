package aptconfig

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks/host"
)

func TestReadFilesFollowsApt(t *testing.T) {
	const parts = "/etc/apt/apt.conf.d"
	keep := func(k string) bool { return strings.HasPrefix(k, "APT::Periodic::") }
	// The expectations of the Dir::Etc cases were checked against apt
	// 2.6's apt-config dump (APT_CONFIG naming a scratch parts directory):
	// a part moves main; main's or a part's Dir::Etc::parts moves nothing.
	tests := []struct {
		name      string
		h         *host.Fake
		want      map[string]string
		wantRead  []string
		wantError string
	}{
		{"the parts are read in name order and apt.conf after them, so apt.conf wins",
			host.NewFake("linux", "amd64").
				AddDir(parts, []string{"10a", "20b"}, nil).
				AddFile(parts+"/10a", []byte(`APT::Periodic::Enable "1"; APT::Periodic::Update-Package-Lists "1";`)).
				AddFile(parts+"/20b", []byte(`APT::Periodic::Update-Package-Lists "0";`)).
				AddFile("/etc/apt/apt.conf", []byte(`APT::Periodic::Enable "0";`)),
			map[string]string{"APT::Periodic::Enable": "0", "APT::Periodic::Update-Package-Lists": "0"},
			[]string{parts, "/etc/apt/apt.conf"}, ""},
		{"Dir::Etc::main set in a part is the main file read, not apt.conf",
			host.NewFake("linux", "amd64").
				AddDir(parts, []string{"05main"}, nil).
				AddFile(parts+"/05main", []byte(`Dir::Etc::main "/srv/apt/main.conf";`)).
				AddFile("/srv/apt/main.conf", []byte(`APT::Periodic::Enable "0";`)).
				AddFile("/etc/apt/apt.conf", []byte(`APT::Periodic::Enable "1";`)),
			map[string]string{"APT::Periodic::Enable": "0", "Dir::Etc::main": "/srv/apt/main.conf"},
			[]string{parts, "/srv/apt/main.conf"}, ""},
		{"a relative Dir::Etc::main is under Dir::Etc, which a part may move too",
			host.NewFake("linux", "amd64").
				AddDir(parts, []string{"05main"}, nil).
				AddFile(parts+"/05main", []byte("Dir::Etc \"/srv/etc\";\nDir::Etc::main \"local.conf\";\n")).
				AddFile("/srv/etc/local.conf", []byte(`APT::Periodic::Enable "0";`)),
			map[string]string{"APT::Periodic::Enable": "0", "Dir::Etc": "/srv/etc", "Dir::Etc::main": "local.conf"},
			[]string{parts, "/srv/etc/local.conf"}, ""},
		{"Dir::Etc::main set to /dev/null reads no main file",
			host.NewFake("linux", "amd64").
				AddDir(parts, []string{"05main"}, nil).
				AddFile(parts+"/05main", []byte(`Dir::Etc::main "/dev/null"; APT::Periodic::Enable "1";`)).
				AddFile("/etc/apt/apt.conf", []byte(`APT::Periodic::Enable "0";`)),
			map[string]string{"APT::Periodic::Enable": "1", "Dir::Etc::main": "/dev/null"},
			[]string{parts}, ""},
		{"Dir::Etc::parts set in apt.conf or a part moves nothing: apt lists the parts once, so a file naming its own directory cannot loop",
			host.NewFake("linux", "amd64").
				AddDir(parts, []string{"10self"}, nil).
				AddFile(parts+"/10self", []byte(`Dir::Etc::parts "/etc/apt/apt.conf.d"; Dir::Etc::main "apt.conf";`)).
				AddDir("/srv/parts", []string{"10other"}, nil).
				AddFile("/srv/parts/10other", []byte(`APT::Periodic::Enable "0";`)).
				AddFile("/etc/apt/apt.conf", []byte("Dir::Etc::parts \"/srv/parts\";\nAPT::Periodic::Enable \"1\";\n")),
			map[string]string{"APT::Periodic::Enable": "1", "Dir::Etc::parts": "/srv/parts", "Dir::Etc::main": "apt.conf"},
			[]string{parts, "/etc/apt/apt.conf"}, ""},
		{"names apt skips are skipped (a package manager's leftovers, editors' backups)",
			host.NewFake("linux", "amd64").
				AddDir(parts, []string{"10a", "10a.dpkg-old", "10a~", "10a.conf"}, nil).
				AddFile(parts+"/10a", []byte(`APT::Periodic::Enable "1";`)).
				AddFile(parts+"/10a.dpkg-old", []byte(`APT::Periodic::Enable "0";`)).
				AddFile(parts+"/10a~", []byte(`APT::Periodic::Enable "0";`)).
				AddFile(parts+"/10a.conf", []byte(`APT::Periodic::Update-Package-Lists "1";`)),
			map[string]string{"APT::Periodic::Enable": "1", "APT::Periodic::Update-Package-Lists": "1"},
			[]string{parts}, ""},
		{"a part that cannot be read is an error returned with what was read",
			host.NewFake("linux", "amd64").
				AddDir(parts, []string{"10a", "99off"}, nil).
				AddFile(parts+"/10a", []byte(`APT::Periodic::Enable "1";`)).
				AddFileError(parts+"/99off", host.Wrap(host.ErrPermission, errors.New("permission denied"))),
			map[string]string{"APT::Periodic::Enable": "1"},
			[]string{parts}, "read /etc/apt/apt.conf.d/99off: permission denied"},
		{"a parts directory that cannot be listed is an error",
			host.NewFake("linux", "amd64").
				AddDir(parts, nil, host.Wrap(host.ErrPermission, errors.New("permission denied"))).
				AddFile("/etc/apt/apt.conf", []byte(`APT::Periodic::Enable "1";`)),
			nil, nil, "list /etc/apt/apt.conf.d: permission denied"},
		{"no file at all is an error, not an empty configuration",
			host.NewFake("linux", "amd64"),
			nil, nil, "no apt configuration file could be read (/etc/apt/apt.conf.d, /etc/apt/apt.conf)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, read, err := ReadFiles(tc.h, keep)
			if (err == nil) != (tc.wantError == "") || err != nil && !strings.Contains(err.Error(), tc.wantError) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantError)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("configuration (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantRead, read); diff != "" {
				t.Errorf("places read (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadFilesBoundsTheParts(t *testing.T) {
	const parts = "/etc/apt/apt.conf.d"
	h := host.NewFake("linux", "amd64")
	var names []string
	for i := range maxParts + 10 {
		n := fmt.Sprintf("%04d", i)
		names = append(names, n)
		h.AddFile(parts+"/"+n, []byte(fmt.Sprintf("APT::Periodic::Enable %q;", n)))
	}
	h.AddDir(parts, names, nil)
	got, _, err := ReadFiles(h, func(k string) bool { return k == "APT::Periodic::Enable" })
	if err == nil || !strings.Contains(err.Error(), "more than 256 files") {
		t.Errorf("error %v, want the bound named", err)
	}
	if want := fmt.Sprintf("%04d", maxParts-1); got["APT::Periodic::Enable"] != want {
		t.Errorf("last part read set %q, want %q", got["APT::Periodic::Enable"], want)
	}
}
