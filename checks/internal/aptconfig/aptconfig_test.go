package aptconfig

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// debian12 is a real `apt-config dump` of Debian 12 (osautoupdate's sample).
func debian12(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "osautoupdate", "testdata", "linux", "apt-config__debian12_default.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// with replaces the dump's line for key as apt-config prints a value set
// in apt.conf.d, or appends it when the dump has none.
func with(t *testing.T, dump []byte, key, value string) []byte {
	t.Helper()
	line := []byte(key + ` "` + value + `";`)
	for _, l := range bytes.Split(dump, []byte("\n")) {
		if bytes.HasPrefix(l, []byte(key+` "`)) {
			return bytes.Replace(dump, l, line, 1)
		}
	}
	return append(append(dump, line...), '\n')
}

func TestFindFile(t *testing.T) {
	tests := []struct {
		name                   string
		dump                   []byte
		wantLists, wantHistory string
	}{
		{"Debian 12's defaults are /var/lib/apt/lists and /var/log/apt/history.log", debian12(t), "/var/lib/apt/lists/", "/var/log/apt/history.log"},
		{"an absolute Dir::State::lists moves the lists alone", with(t, debian12(t), "Dir::State::lists", "/srv/apt/lists/"), "/srv/apt/lists/", "/var/log/apt/history.log"},
		{"a relative Dir::State::lists stays under Dir::State", with(t, debian12(t), "Dir::State::lists", "cache-lists"), "/var/lib/apt/cache-lists/", "/var/log/apt/history.log"},
		{"an absolute Dir::State moves the lists under it", with(t, debian12(t), "Dir::State", "/srv/apt-state"), "/srv/apt-state/lists/", "/var/log/apt/history.log"},
		{"Dir moves every relative directory", with(t, debian12(t), "Dir", "/srv/root/"), "/srv/root/var/lib/apt/lists/", "/srv/root/var/log/apt/history.log"},
		{"Dir::Log moves the history", with(t, debian12(t), "Dir::Log", "/srv/log/apt"), "/var/lib/apt/lists/", "/srv/log/apt/history.log"},
		{"an absolute Dir::Log::History is the file itself", with(t, debian12(t), "Dir::Log::History", "/srv/apt-history.log"), "/var/lib/apt/lists/", "/srv/apt-history.log"},
		{"history sent to /dev/null is /dev/null", with(t, debian12(t), "Dir::Log::History", "/dev/null"), "/var/lib/apt/lists/", "/dev/null"},
		{"RootDir prefixes even absolute values", with(t, with(t, debian12(t), "RootDir", "/mnt"), "Dir::State::lists", "/srv/lists/"), "/mnt/srv/lists/", "/mnt/var/log/apt/history.log"},
		{"an empty dump leaves apt's defaults", nil, "/var/lib/apt/lists/", "/var/log/apt/history.log"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conf := Parse(tc.dump, Kept)
			if got := FindDir(conf, "Dir::State::lists"); got != tc.wantLists {
				t.Errorf("lists = %q, want %q", got, tc.wantLists)
			}
			if got := FindFile(conf, "Dir::Log::History"); got != tc.wantHistory {
				t.Errorf("history = %q, want %q", got, tc.wantHistory)
			}
		})
	}
}

func TestParseKeepsOnlyScalarsAsked(t *testing.T) {
	conf := Parse(debian12(t), Kept)
	if _, ok := conf["APT::Architecture"]; ok {
		t.Error("kept a key Kept refuses")
	}
	if conf["Dir::State"] != "var/lib/apt" {
		t.Errorf("Dir::State = %q", conf["Dir::State"])
	}
}
