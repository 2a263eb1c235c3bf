package passwordprotected

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"howett.net/plist"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// The parsers and collectors below read account databases,
// display-manager configuration, getty drop-ins, dslocal plists and WMI
// rows. Whatever the bytes: no panic, output bounded by the input, and
// an account that signs in without a password (or an automatic sign-in)
// is never lost on the way to the verdict. `go test` runs the seeds;
// `go test -fuzz` explores from them.

func FuzzParsePasswd(f *testing.F) {
	checktest.AddSeeds(f, "linux", "passwd")
	f.Add([]byte("root::0:0::/root:\r\n+nis\n-x:::::\nbob:x:-1:1::/:/bin/sh\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n := checktest.LineCount(b)
		entries := parsePasswd(b)
		if len(entries) > n {
			t.Fatalf("%d entries from %d lines", len(entries), n)
		}
		for _, e := range entries {
			if e.uid < 0 || e.lineNo < 1 || e.lineNo > n || strings.ContainsAny(e.name+e.pwd+e.shell, ":\n") {
				t.Fatalf("entry %+v", e)
			}
		}
	})
}

func FuzzParseShadow(f *testing.F) {
	checktest.AddSeeds(f, "linux", "shadow")
	f.Add([]byte("kiosk::19000:0:99999:7::-1:\nold:!:1:0:x:7::106751991167301:\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		sh := parseShadow(b)
		if len(sh) > checktest.LineCount(b) {
			t.Fatalf("%d entries from %d lines", len(sh), checktest.LineCount(b))
		}
		for name, e := range sh {
			switch e.state {
			case PasswordSet, PasswordNone, PasswordLocked:
			default:
				t.Fatalf("%s: state %q", name, e.state)
			}
			if e.expires != nil && *e.expires == -1 {
				t.Fatalf("%s: -1 kept as an expiry day", name)
			}
		}
	})
}

func FuzzParseINI(f *testing.F) {
	checktest.AddSeeds(f, "linux", "gdm3")
	checktest.AddSeeds(f, "linux", "lightdm")
	checktest.AddSeeds(f, "linux", "sddm")
	checktest.AddSeeds(f, "linux", "getty")
	f.Fuzz(func(t *testing.T, b []byte) {
		vals := parseINI(b)
		if len(vals) > checktest.LineCount(b) {
			t.Fatalf("%d values from %d lines", len(vals), checktest.LineCount(b))
		}
		for _, v := range vals {
			if strings.ContainsAny(v.section+v.key+v.value, "\n") || strings.TrimSpace(v.key) != v.key || strings.TrimSpace(v.value) != v.value {
				t.Fatalf("value %+v", v)
			}
		}
		if user, on := gettyAutologinUser(b); !on && user != "" || strings.ContainsAny(user, " \t\n") {
			t.Fatalf("getty autologin %q, %t", user, on)
		}
		lo, hi := uidRange(loginDefs(b))
		if lo < 1 || hi < 1 {
			t.Fatalf("UID range %d-%d", lo, hi)
		}
	})
}

// slowShadowHash reports a ShadowHashData whose PBKDF2 work would make a
// fuzz run crawl (it is bounded, but up to a second per account).
func slowShadowHash(u dslocalUser) bool {
	if len(u.ShadowHash) == 0 {
		return false
	}
	var sh shadowHash
	if _, err := plist.Unmarshal(u.ShadowHash[0], &sh); err != nil || sh.PBKDF2 == nil {
		return false
	}
	return sh.PBKDF2.Iterations > 100_000
}

func FuzzMacPasswordState(f *testing.F) {
	checktest.AddSeeds(f, "darwin", "user-")
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := parseDSLocalUser(b)
		if err != nil || slowShadowHash(u) {
			return
		}
		state, _, source, err := macPasswordState(u)
		switch {
		case err != nil && state != PasswordUnknown:
			t.Fatalf("error %v with state %q", err, state)
		case source == "":
			t.Fatal("no source")
		}
		switch state {
		case PasswordSet, PasswordNone, PasswordLocked, PasswordUnknown:
		default:
			t.Fatalf("state %q", state)
		}
	})
}

// checkVerdict collects from h, evaluates and checks that the status is
// valid with a reason, and that it fails when wantFail says an input
// holds an open door.
func checkVerdict(t *testing.T, h host.Host, wantFail string) {
	t.Helper()
	b, _, ok := checktest.CollectFacts[Facts](t, h, Collect)
	if !ok {
		return
	}
	res := Evaluate(checks.EvalInput{OS: h.GOOS(), Facts: b, CollectedAt: collectedAt, Now: collectedAt})
	checktest.CheckResult(t, res, checks.StatusPass, checks.StatusFail, checks.StatusUnknown)
	if wantFail != "" && res.Status != checks.StatusFail {
		t.Fatalf("%s, but %s: %q", res.Status, wantFail, res.Summary)
	}
}

func FuzzCollectLinux(f *testing.F) {
	defs := checktest.Testdata(f, "linux", "login.defs__debian12.txt")
	passwds := checktest.SeedFiles(f, "linux", "passwd")
	shadows := checktest.SeedFiles(f, "linux", "shadow")
	gdms := checktest.SeedFiles(f, "linux", "gdm3")
	gettys := checktest.SeedFiles(f, "linux", "getty")
	for i, s := range shadows {
		f.Add(passwds[i%len(passwds)], s, gdms[i%len(gdms)], gettys[i%len(gettys)])
	}
	f.Add([]byte("kiosk:x:1001:1001::/home/kiosk:/bin/bash\n"), []byte("kiosk::19000:0:99999:7::106751991167301:\n"), []byte{}, []byte{})
	f.Add([]byte("kiosk:x:1001:1001::/home/kiosk:/bin/bash\n"), []byte("kiosk::19000:0:99999:7::-1:\n"), []byte{}, []byte{})
	const gdmConf, gettyConf = "/etc/gdm3/daemon.conf", "/etc/systemd/system/getty@tty1.service.d/override.conf"
	f.Fuzz(func(t *testing.T, passwd, shadow, gdm, getty []byte) {
		h := host.NewFake("linux", "amd64").
			AddFile(passwdPath, passwd).
			AddFile(shadowPath, shadow).
			AddFile(loginDefsPath, defs).
			AddFile(gdmConf, gdm).
			AddGlob("/etc/systemd/system/getty@*.service.d/*.conf", []string{gettyConf}, nil).
			AddFile(gettyConf, getty)
		checkVerdict(t, h, linuxOpenDoor(passwd, shadow, gdm, getty, defs))
	})
}

// linuxOpenDoor says which input must fail the control, from the parsers'
// own reading: an interactive account with no password that is not
// expired, GDM automatic login, or a getty autologin.
func linuxOpenDoor(passwd, shadow, gdm, getty, defs []byte) string {
	if _, on := gettyAutologinUser(getty); on {
		return "a getty drop-in signs someone in"
	}
	if user, on := displayManagers[0].user(parseINI(gdm), displayManagers[0].section); on {
		return "GDM signs in " + user
	}
	today := collectedAt.Unix() / 86400
	sh := parseShadow(shadow)
	for _, e := range parsePasswd(passwd) {
		if !interactiveShell(e.shell) {
			continue
		}
		if e.pwd == "" {
			return e.name + " has an empty passwd field"
		}
		s, ok := sh[e.name]
		if e.pwd == "x" && ok && s.state == PasswordNone && (s.expires == nil || *s.expires > today) {
			return e.name + " has an empty shadow field (UID " + strconv.Itoa(e.uid) + ")"
		}
	}
	return ""
}

func FuzzCollectWindows(f *testing.F) {
	for _, rows := range checktest.SeedFiles(f, "windows", "Win32_UserAccount") {
		f.Add(rows, "0")
		f.Add(rows, "1")
	}
	f.Add([]byte(`[{"Name":"a","Disabled":"false","PasswordRequired":0},{"Name":null,"Disabled":false,"PasswordRequired":false}]`), " 0 ")
	f.Fuzz(func(t *testing.T, rowsJSON []byte, autoAdminLogon string) {
		var rows []map[string]any
		if json.Unmarshal(rowsJSON, &rows) != nil {
			return
		}
		h := host.NewFake("windows", "amd64").
			AddRegistry(winlogonKey, "AutoAdminLogon", host.RegistryValue{Type: "REG_SZ", String: autoAdminLogon}, nil).
			AddWMI(userAccountNS, userAccountQuery, rows, nil)
		want := ""
		if strings.TrimSpace(autoAdminLogon) == "1" {
			want = "AutoAdminLogon is 1"
		}
		for _, r := range rows {
			if d, ok := r["Disabled"].(bool); ok && !d {
				if req, ok := r["PasswordRequired"].(bool); ok && !req {
					want = "an enabled account need not have a password"
				}
			}
		}
		checkVerdict(t, h, want)
	})
}

func FuzzCollectDarwin(f *testing.F) {
	loginwindow := checktest.Testdata(f, "darwin", "com.apple.loginwindow__default_binary_handwritten.plist")
	for _, u := range checktest.SeedFiles(f, "darwin", "user-") {
		f.Add(u, loginwindow)
	}
	for _, lw := range checktest.SeedFiles(f, "darwin", "com.apple.loginwindow") {
		f.Add(checktest.SeedFiles(f, "darwin", "user-jdoe")[0], lw)
	}
	const userFile = "/var/db/dslocal/nodes/Default/users/fuzz.plist"
	f.Fuzz(func(t *testing.T, user, loginwindowPlist []byte) {
		if u, err := parseDSLocalUser(user); err == nil && slowShadowHash(u) {
			return
		}
		h := host.NewFake("darwin", "arm64").
			AddFile("/Library/Preferences/com.apple.loginwindow.plist", loginwindowPlist).
			AddGlob(dslocalUsers, []string{userFile}, nil).
			AddFile(userFile, user)
		checkVerdict(t, h, "")
	})
}
