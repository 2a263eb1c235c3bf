package consoleuser

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// The console user is found from logind's state files, loginctl,
// passwd/getent, stat and dscl output. Whatever those say: no panic, and
// a user that is returned has a numeric uid (Linux, macOS), a session
// name that cannot escape a path, and a name that cannot either where
// the name is put in a path or an argument (macOS). `go test` runs the
// seeds; `go test -fuzz` explores from them.

func FuzzParseKeyValue(f *testing.F) {
	for _, name := range []string{"logind-seat__seat0_active.txt", "logind-session__gnome_wayland.txt", "logind-session__ssh_remote.txt", "loginctl-show-session__wayland.txt"} {
		f.Add(checktest.Testdata(f, "linux", name))
	}
	f.Add([]byte("A=1\r\n#B=2\n =3\nC==4\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		kv := parseKeyValue(b)
		if len(kv) > strings.Count(string(b), "\n")+1 {
			t.Fatalf("%d keys", len(kv))
		}
		for k, v := range kv {
			if strings.ContainsAny(k+v, "\n") || strings.TrimSpace(k) != k || strings.TrimSpace(v) != v {
				t.Fatalf("%q = %q", k, v)
			}
		}
		s := sessionFrom("2", kv)
		if s.local() && (!isUID(s.uid) || s.uid == "0") {
			t.Fatalf("local session with uid %q", s.uid)
		}
	})
}

func FuzzLookupPasswd(f *testing.F) {
	f.Add(checktest.Testdata(f, "linux", "passwd__alice.txt"), "1000")
	f.Add([]byte("#x:x:1000:1:::\n:x:1000::::\nbob:x:1000:1::/home/bob:/bin/sh\r\n"), "1000")
	f.Fuzz(func(t *testing.T, b []byte, uid string) {
		e, ok := lookupPasswd(b, uid)
		if ok && (e.uid != uid || e.name == "" || strings.ContainsAny(e.name+e.home, ":\n")) {
			t.Fatalf("lookupPasswd(%q) = %+v", uid, e)
		}
	})
}

func FuzzParseDSCLHome(f *testing.F) {
	f.Add(checktest.Testdata(f, "darwin", "dscl__home.plist"))
	f.Add([]byte(`<plist><dict><key>NFSHomeDirectory</key><array><string>relative</string><string>/x</string></array></dict></plist>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		home, err := parseDSCLHome(b)
		if err == nil && !strings.HasPrefix(home, "/") {
			t.Fatalf("home %q is not absolute", home)
		}
	})
}

// checkUser checks what any console user Find returns must satisfy.
func checkUser(t *testing.T, goos string, u User, err error) {
	t.Helper()
	if err != nil {
		if err.Error() == "" {
			t.Fatal("an error without a reason")
		}
		return
	}
	if goos != "windows" && !isUID(u.ID) {
		t.Fatalf("uid %q is not a number", u.ID)
	}
	if u.Session != "" && !validName(u.Session) {
		t.Fatalf("session %q", u.Session)
	}
	if goos == "darwin" && !validName(u.Name) {
		t.Fatalf("name %q", u.Name)
	}
	if u.Source == "" {
		t.Fatal("no source")
	}
}

func FuzzFindLinux(f *testing.F) {
	seat := checktest.Testdata(f, "linux", "logind-seat__seat0_active.txt")
	session := checktest.Testdata(f, "linux", "logind-session__gnome_wayland.txt")
	passwd := checktest.Testdata(f, "linux", "passwd__alice.txt")
	list := checktest.Testdata(f, "linux", "loginctl-list-sessions__json_short.txt")
	show := checktest.Testdata(f, "linux", "loginctl-show-session__wayland.txt")
	f.Add(seat, session, passwd, list, show)
	f.Add([]byte("ACTIVE=../../etc/passwd\n"), []byte("UID=--help\nSEAT=seat0\n"), passwd, list, []byte("User=alice\nSeat=seat0\n"))
	f.Add([]byte{}, []byte{}, passwd, []byte(`[{"session":"2","seat":"seat0"},{"session":"../x","seat":"s"}]`), show)
	f.Fuzz(func(t *testing.T, seat0, sessionFile, passwdFile, listJSON, showOut []byte) {
		h := host.NewFake("linux", "amd64").
			AddFile(seat0Path, seat0).
			AddFile(sessionsDir+"/2", sessionFile).
			AddFile(passwdPath, passwdFile).
			AddRun([]string{loginctlPath, "list-sessions", "--no-legend", "--json=short"}, host.Output{Stdout: listJSON}, nil).
			AddRun([]string{loginctlPath, "show-session", "2", "-p", "Name", "-p", "User", "-p", "Type", "-p", "Class", "-p", "Active", "-p", "Remote", "-p", "Desktop", "-p", "Seat"}, host.Output{Stdout: showOut}, nil)
		if len(seat0) == 0 {
			// No seat file: the sessions directory is missing, so
			// loginctl answers.
			h = host.NewFake("linux", "amd64").AddFile(passwdPath, passwdFile).
				AddRun([]string{loginctlPath, "list-sessions", "--no-legend", "--json=short"}, host.Output{Stdout: listJSON}, nil).
				AddRun([]string{loginctlPath, "show-session", "2", "-p", "Name", "-p", "User", "-p", "Type", "-p", "Class", "-p", "Active", "-p", "Remote", "-p", "Desktop", "-p", "Seat"}, host.Output{Stdout: showOut}, nil)
		}
		u, err := Find(context.Background(), h)
		checkUser(t, "linux", u, err)
	})
}

func FuzzFindDarwin(f *testing.F) {
	dscl := checktest.Testdata(f, "darwin", "dscl__home.plist")
	f.Add([]byte("alice 501\n"), dscl)
	f.Add([]byte("../../x 501\n"), dscl)
	f.Add([]byte("alice -1\n"), []byte("not a plist"))
	f.Add([]byte("root 0"), dscl)
	f.Fuzz(func(t *testing.T, statOut, dsclOut []byte) {
		name, _, _ := strings.Cut(strings.TrimSpace(string(statOut)), " ")
		h := host.NewFake("darwin", "arm64").
			AddRun([]string{statPath, "-f", "%Su %u", "/dev/console"}, host.Output{Stdout: statOut}, nil).
			AddRun([]string{dsclPath, "-plist", ".", "-read", "/Users/" + name, "NFSHomeDirectory"}, host.Output{Stdout: dsclOut}, nil)
		u, err := Find(context.Background(), h)
		checkUser(t, "darwin", u, err)
	})
}

func FuzzFindWindows(f *testing.F) {
	const sid = "S-1-5-21-3623811015-3361044348-30300820-1013"
	f.Add(`CONTOSO\alice`, `CONTOSO\alice`, sid)
	f.Add(`CONTOSO\alice`, `.\alice`, "S-1-5-21-1")
	f.Add(`\`, `CONTOSO\alice' OR '1'='1`, "S-1-5-21-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16")
	f.Fuzz(func(t *testing.T, userName, lastSAM, lastSID string) {
		h := host.NewFake("windows", "amd64").
			AddWMI(wmiCIMv2, queryConsole, []map[string]any{{"UserName": userName}}, nil).
			AddRegistry(logonUIKey, "LastLoggedOnSAMUser", host.RegistryValue{Type: "REG_SZ", String: lastSAM}, nil).
			AddRegistry(logonUIKey, "LastLoggedOnUserSID", host.RegistryValue{Type: "REG_SZ", String: lastSID}, nil)
		u, err := Find(context.Background(), h)
		checkUser(t, "windows", u, err)
		if err == nil && !sidRE.MatchString(u.ID) {
			t.Fatalf("SID %q", u.ID)
		}
		if err != nil && !errors.Is(err, ErrNoConsoleUser) && u != (User{}) {
			t.Fatalf("error %v with user %+v", err, u)
		}
	})
}
