package screenlock

import (
	"math"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/postern-dev/postern/checks/internal/checktest"
)

// The parsers below read files a local user can write (keyfiles,
// kscreenlockerrc) or the output of tools; whatever the bytes, they must
// not panic, must stay bounded by their input, and must never hand back
// a negative or out-of-range timeout. `go test` runs the seeds; `go test
// -fuzz` explores from them.

func FuzzParseKeyfile(f *testing.F) {
	checktest.AddSeeds(f, "linux", "kscreenlockerrc")
	checktest.AddSeeds(f, "linux", "dconf-keyfile")
	checktest.AddSeeds(f, "linux", "gschema-override")
	f.Add([]byte("[$i]\n[Daemon][$i]\nTimeout[$i]=5\nName[de]=x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		kf := parseKeyfile(b)
		n := 0
		for _, kv := range kf.groups {
			n += len(kv)
			for k, v := range kv {
				if strings.ContainsAny(k, "[\n") || strings.Contains(v, "\n") || strings.TrimSpace(v) != v {
					t.Fatalf("key %q = %q kept a marker, a newline or blanks", k, v)
				}
				if g := gvariantTextValue(v); len(g) > len(v) {
					t.Fatalf("gvariantTextValue(%q) = %q grew", v, g)
				}
			}
		}
		if n > checktest.LineCount(b) || len(kf.immutable) > checktest.LineCount(b) {
			t.Fatalf("%d values and %d markers from %d lines", n, len(kf.immutable), checktest.LineCount(b))
		}
		// Writing the values back as a plain keyfile and reading it again
		// gives the same values, for the groups and keys that can be
		// written back.
		again := parseKeyfile([]byte(renderKeyfile(kf)))
		for g, kv := range kf.groups {
			if !writable(g, "]") {
				continue
			}
			for k, v := range kv {
				if !writable(k, "=[") || k == "" || strings.ContainsAny(k[:1], "#;[") {
					continue
				}
				if got, ok := again.get(g, k); !ok || got != v {
					t.Fatalf("[%s] %s = %q read back as %q, %t", g, k, v, got, ok)
				}
			}
		}
	})
}

func writable(s, forbidden string) bool {
	return !strings.ContainsAny(s, forbidden+"\r\n") && strings.TrimSpace(s) == s && utf8.ValidString(s)
}

// renderKeyfile writes kf's writable groups and keys as a keyfile.
func renderKeyfile(kf keyfile) string {
	var sb strings.Builder
	groups := make([]string, 0, len(kf.groups))
	for g := range kf.groups {
		groups = append(groups, g)
	}
	sort.Strings(groups) // "" first: keys before any group header
	for _, g := range groups {
		if !writable(g, "]") {
			continue
		}
		if g != "" {
			sb.WriteString("[" + g + "]\n")
		}
		for k, v := range kf.groups[g] {
			if writable(k, "=[") && k != "" && !strings.ContainsAny(k[:1], "#;[") {
				sb.WriteString(k + "=" + v + "\n")
			}
		}
	}
	return sb.String()
}

func FuzzParseDconfProfile(f *testing.F) {
	checktest.AddSeeds(f, "linux", "dconf-profile")
	f.Add([]byte("user-db:user\r\nsystem-db:local # comment\nfile-db:/etc/x\n:\nservice-db:\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		srcs := parseDconfProfile(b)
		if len(srcs) > checktest.LineCount(b) {
			t.Fatalf("%d databases from %d lines", len(srcs), checktest.LineCount(b))
		}
		for _, s := range srcs {
			if s.name == "" || strings.ContainsAny(s.name+s.kind, "#\n") {
				t.Fatalf("bad database %+v", s)
			}
		}
	})
}

func FuzzParsePmsetCustom(f *testing.F) {
	checktest.AddSeeds(f, "darwin", "pmset-custom")
	f.Add([]byte("AC Power:\n displaysleep -5\n sleep 99999999999999999999\nUPS Power:\n sleep 1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for power, p := range parsePmsetCustom(b) {
			if power != PowerAC && power != PowerBattery {
				t.Fatalf("unexpected power source %q", power)
			}
			// -1 is "not listed"; anything else is minutes, and minutes
			// must still be seconds that fit in an int.
			for _, m := range []int{p.displaySleep, p.sleep} {
				if m < -1 || m > maxPmsetMinutes {
					t.Fatalf("%s: %d minutes", power, m)
				}
			}
		}
	})
}

func FuzzParseScreenLockStatus(f *testing.F) {
	checktest.AddSeeds(f, "darwin", "sysadminctl")
	for _, s := range []string{"screenLock delay is NaN seconds", "screenLock delay is 1e300 seconds", "screenLock delay is -1 seconds", "screenLock delay is 0x10 seconds", "screenLock delay is Inf seconds"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		required, delay, ok := parseScreenLockStatus(b)
		if delay < 0 || delay > maxDelaySeconds {
			t.Fatalf("delay %d seconds", delay)
		}
		if !ok && (required || delay != 0) {
			t.Fatalf("not understood, but required=%t delay=%d", required, delay)
		}
		if !required && delay != 0 {
			t.Fatalf("no lock with a delay of %d", delay)
		}
	})
}

func FuzzParsePowercfgQuery(f *testing.F) {
	for _, b := range checktest.SeedFiles(f, "windows", "powercfg") {
		f.Add(b, standbyIdle)
		f.Add(b, consoleLock)
		f.Add(b, videoIdle)
	}
	f.Fuzz(func(t *testing.T, b []byte, setting string) {
		ac, dc, err := parsePowercfgQuery(b, setting)
		if err != nil && (ac != 0 || dc != 0) {
			t.Fatalf("error %v with values %d, %d", err, ac, dc)
		}
		if ac < 0 || dc < 0 || ac > math.MaxUint32 || dc > math.MaxUint32 {
			t.Fatalf("indexes %d, %d are not DWORDs", ac, dc)
		}
	})
}

func FuzzDecodeText(f *testing.F) {
	checktest.AddSeeds(f, "windows", "powercfg")
	f.Add([]byte{0xfe, 0xff, 0xd8, 0x00}) // a lone surrogate, big-endian
	f.Add([]byte{0xff, 0xfe, 0x41})       // an odd byte count
	f.Fuzz(func(t *testing.T, b []byte) {
		s := decodeText(b)
		if len(b) >= 2 && (b[0] == 0xff && b[1] == 0xfe || b[0] == 0xfe && b[1] == 0xff) {
			if !utf8.ValidString(s) {
				t.Fatalf("UTF-16 decoded to invalid UTF-8 %q", s)
			}
			// Each UTF-16 unit becomes at most three bytes of UTF-8.
			if len(s) > 3*len(b)/2 {
				t.Fatalf("%d bytes from %d", len(s), len(b))
			}
		}
	})
}

func FuzzPickEnv(f *testing.F) {
	f.Add([]byte("XDG_CONFIG_DIRS=/etc/xdg\x00XDG_CONFIG_HOME=/home/alice/.config\x00PATH=/usr/bin\x00"))
	f.Add([]byte("XDG_CONFIG_DIRS\x00=x\x00XDG_CONFIG_DIRS=a=b"))
	want := []string{"XDG_CONFIG_DIRS", "XDG_CONFIG_HOME"}
	f.Fuzz(func(t *testing.T, b []byte) {
		env := pickEnv(b, want)
		if len(env) > len(want) {
			t.Fatalf("kept %v", env)
		}
		for k, v := range env {
			if k != want[0] && k != want[1] || strings.Contains(v, "\x00") {
				t.Fatalf("kept %q=%q", k, v)
			}
		}
	})
}
