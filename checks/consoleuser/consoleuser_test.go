package consoleuser

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks/host"
)

func testdata(t *testing.T, goos, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", goos, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const aliceSID = "S-1-5-21-3623811015-3361044348-30300820-1013"

func TestFind(t *testing.T) {
	session := func(t *testing.T) []byte { return testdata(t, "linux", "logind-session__gnome_wayland.txt") }
	passwd := func(t *testing.T) []byte { return testdata(t, "linux", "passwd__alice.txt") }
	listArgv := []string{loginctlPath, "list-sessions", "--no-legend", "--json=short"}
	showArgv := []string{loginctlPath, "show-session", "2", "-p", "Name", "-p", "User", "-p", "Type", "-p", "Class", "-p", "Active", "-p", "Remote", "-p", "Desktop", "-p", "Seat"}
	wmiUser := func(name any) []map[string]any { return []map[string]any{{"UserName": name}} }
	logonUI := logonUIKey
	alice := User{Name: "alice", ID: "1000", Home: "/home/alice", Session: "2", SessionType: "wayland", Desktop: "gnome"}
	winAlice := User{Name: `CONTOSO\alice`, ID: aliceSID, Home: `C:\Users\alice`, SessionType: "console"}
	macAlice := User{Name: "alice", ID: "501", Home: "/Users/alice", SessionType: "console", Source: "stat /dev/console"}
	statArgv := []string{statPath, "-f", "%Su %u", "/dev/console"}
	dsclArgv := []string{dsclPath, "-plist", ".", "-read", "/Users/alice", "NFSHomeDirectory"}
	tests := []struct {
		name    string
		host    *host.Fake
		want    User
		wantSrc string
		wantErr error
	}{
		{"linux: the active session of seat0 is the console user",
			host.NewFake("linux", "amd64").
				AddFile(seat0Path, testdata(t, "linux", "logind-seat__seat0_active.txt")).
				AddFile(sessionsDir+"/2", session(t)).AddFile(passwdPath, passwd(t)),
			alice, "/run/systemd/seats/seat0, /run/systemd/sessions/2", nil},
		{"linux: without a seat file the sessions directory is scanned, skipping remote sessions and FIFOs",
			host.NewFake("linux", "amd64").
				AddDir(sessionsDir, []string{"2", "2.ref", "5"}, nil).
				AddFile(sessionsDir+"/2", session(t)).
				AddFile(sessionsDir+"/5", testdata(t, "linux", "logind-session__ssh_remote.txt")).
				AddFile(passwdPath, passwd(t)),
			alice, sessionsDir, nil},
		{"linux: a directory user is found through getent",
			host.NewFake("linux", "amd64").
				AddFile(seat0Path, testdata(t, "linux", "logind-seat__seat0_active.txt")).
				AddFile(sessionsDir+"/2", session(t)).AddFile(passwdPath, []byte("root:x:0:0:root:/root:/bin/bash\n")).
				AddRun([]string{getentPath, "passwd", "1000"}, host.Output{Stdout: []byte("alice:*:1000:1000:Alice:/home/alice:/bin/bash\n")}, nil),
			alice, "/run/systemd/seats/seat0, /run/systemd/sessions/2", nil},
		{"linux: loginctl answers when the state directory is missing",
			host.NewFake("linux", "amd64").
				AddRun(listArgv, host.Output{Stdout: testdata(t, "linux", "loginctl-list-sessions__json_short.txt")}, nil).
				AddRun(showArgv, host.Output{Stdout: testdata(t, "linux", "loginctl-show-session__wayland.txt")}, nil).
				AddFile(passwdPath, passwd(t)),
			alice, "loginctl", nil},
		{"linux: systemd 252's loginctl refuses --json, and the plain listing is read",
			host.NewFake("linux", "amd64").
				AddRun(listArgv, host.Output{Stderr: testdata(t, "linux", "loginctl-list-sessions__json_refused_systemd252_stderr.txt"), ExitCode: 1}, nil).
				AddRun([]string{loginctlPath, "list-sessions", "--no-legend"}, host.Output{Stdout: testdata(t, "linux", "loginctl-list-sessions__plain_handwritten.txt")}, nil).
				AddRun(showArgv, host.Output{Stdout: testdata(t, "linux", "loginctl-show-session__wayland.txt")}, nil).
				AddRun([]string{loginctlPath, "show-session", "5", "-p", "Name", "-p", "User", "-p", "Type", "-p", "Class", "-p", "Active", "-p", "Remote", "-p", "Desktop", "-p", "Seat"},
					host.Output{Stdout: []byte("Name=alice\nUser=1000\nType=tty\nClass=user\nActive=no\nRemote=yes\nDesktop=\nSeat=\n")}, nil).
				AddFile(passwdPath, passwd(t)),
			alice, "loginctl", nil},
		{"linux: only a remote session is no console user",
			host.NewFake("linux", "amd64").
				AddDir(sessionsDir, []string{"5"}, nil).
				AddFile(sessionsDir+"/5", testdata(t, "linux", "logind-session__ssh_remote.txt")),
			User{}, "", ErrNoConsoleUser},
		{"windows: the LogonUI SID is used when it names the console user",
			host.NewFake("windows", "amd64").
				AddWMI(wmiCIMv2, queryConsole, wmiUser(`CONTOSO\alice`), nil).
				AddRegistry(logonUI, "LastLoggedOnSAMUser", host.RegistryValue{Type: "REG_SZ", String: `CONTOSO\alice`}, nil).
				AddRegistry(logonUI, "LastLoggedOnUserSID", host.RegistryValue{Type: "REG_SZ", String: aliceSID}, nil).
				AddRegistry(profileListKey+`\`+aliceSID, "ProfileImagePath", host.RegistryValue{Type: "REG_EXPAND_SZ", String: `C:\Users\alice`}, nil),
			winAlice, sourceWMIUser + ", " + sourceLogonUI, nil},
		{"windows: another last user makes WMI look the SID up",
			host.NewFake("windows", "amd64").
				AddWMI(wmiCIMv2, queryConsole, wmiUser(`CONTOSO\alice`), nil).
				AddRegistry(logonUI, "LastLoggedOnSAMUser", host.RegistryValue{Type: "REG_SZ", String: `CONTOSO\bob`}, nil).
				AddRegistry(logonUI, "LastLoggedOnUserSID", host.RegistryValue{Type: "REG_SZ", String: "S-1-5-21-1-2-3-1100"}, nil).
				AddWMI(wmiCIMv2, "SELECT SID FROM Win32_UserAccount WHERE Domain = 'CONTOSO' AND Name = 'alice'", []map[string]any{{"SID": aliceSID}}, nil).
				AddRegistry(profileListKey+`\`+aliceSID, "ProfileImagePath", host.RegistryValue{Type: "REG_EXPAND_SZ", String: `C:\Users\alice`}, nil),
			winAlice, sourceWMIUser + ", " + sourceUserAcct, nil},
		{"windows: an empty UserName is no console user",
			host.NewFake("windows", "amd64").AddWMI(wmiCIMv2, queryConsole, wmiUser(nil), nil),
			User{}, "", ErrNoConsoleUser},
		{"windows: WMI access denied is reported as such",
			host.NewFake("windows", "amd64").AddWMI(wmiCIMv2, queryConsole, nil, host.Wrap(host.ErrPermission, errors.New("Access denied"))),
			User{}, "", host.ErrPermission},
		{"darwin: the owner of /dev/console with a home from dscl",
			host.NewFake("darwin", "arm64").
				AddRun(statArgv, host.Output{Stdout: []byte("alice 501\n")}, nil).
				AddRun(dsclArgv, host.Output{Stdout: testdata(t, "darwin", "dscl__home.plist")}, nil),
			macAlice, "stat /dev/console", nil},
		{"darwin: a failing dscl falls back to an existing /Users folder",
			host.NewFake("darwin", "arm64").
				AddRun(statArgv, host.Output{Stdout: []byte("alice 501\n")}, nil).
				AddRun(dsclArgv, host.Output{Stderr: []byte("DS Error: -14136 (eDSRecordNotFound)"), ExitCode: 56}, nil).
				AddStat("/Users/alice", host.FileInfo{Name: "alice", Mode: fs.ModeDir | 0o755}, nil),
			macAlice, "stat /dev/console", nil},
		{"darwin: root at the console is the login window",
			host.NewFake("darwin", "arm64").AddRun(statArgv, host.Output{Stdout: []byte("root 0\n")}, nil),
			User{}, "", ErrNoConsoleUser},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Find(context.Background(), tc.host)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("error = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.want.Source = tc.wantSrc
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestGraphical(t *testing.T) {
	for typ, want := range map[string]bool{"x11": true, "wayland": true, "console": true, "tty": false, "unspecified": false, "": false} {
		if got := (User{SessionType: typ}).Graphical(); got != want {
			t.Errorf("Graphical(%q) = %t, want %t", typ, got, want)
		}
	}
}

func TestUnreadableLogindSessionIsNoAnswer(t *testing.T) {
	denied := host.Wrap(host.ErrPermission, errors.New("open /run/systemd/sessions/7: permission denied"))
	t.Run("a session file that cannot be read is an error, not nobody at the console", func(t *testing.T) {
		h := host.NewFake("linux", "amd64").
			AddDir(sessionsDir, []string{"5", "7"}, nil).
			AddFile(sessionsDir+"/5", testdata(t, "linux", "logind-session__ssh_remote.txt")).
			AddFileError(sessionsDir+"/7", denied)
		_, err := Find(context.Background(), h)
		if err == nil || errors.Is(err, ErrNoConsoleUser) || !strings.Contains(err.Error(), "7: ") {
			t.Fatalf("error = %v, want one naming session 7 that is not ErrNoConsoleUser", err)
		}
	})
	t.Run("a session that ended since the listing is skipped", func(t *testing.T) {
		h := host.NewFake("linux", "amd64").
			AddDir(sessionsDir, []string{"5", "7"}, nil).
			AddFile(sessionsDir+"/5", testdata(t, "linux", "logind-session__ssh_remote.txt"))
		if _, err := Find(context.Background(), h); !errors.Is(err, ErrNoConsoleUser) {
			t.Fatalf("error = %v, want ErrNoConsoleUser", err)
		}
	})
	t.Run("an active graphical session is the console's even when another cannot be read", func(t *testing.T) {
		h := host.NewFake("linux", "amd64").
			AddDir(sessionsDir, []string{"2", "7"}, nil).
			AddFile(sessionsDir+"/2", testdata(t, "linux", "logind-session__gnome_wayland.txt")).
			AddFileError(sessionsDir+"/7", denied).
			AddFile(passwdPath, testdata(t, "linux", "passwd__alice.txt"))
		u, err := Find(context.Background(), h)
		if err != nil || u.Name != "alice" || u.Session != "2" {
			t.Fatalf("got %+v, %v; want alice in session 2", u, err)
		}
	})
}
