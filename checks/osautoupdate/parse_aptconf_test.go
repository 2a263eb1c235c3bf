package osautoupdate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseAptConf(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name string
		conf string
		want map[string]string
	}{
		{"flat and nested forms give the same keys",
			"APT::Periodic::Enable \"1\";\nAPT { Periodic { Unattended-Upgrade \"1\"; }; };\n",
			map[string]string{keyEnable: "1", keyUnattended: "1"}},
		{"a brace inside a value opens no scope",
			`APT::Periodic::Enable "{1";` + "\n" + `APT::Periodic::Unattended-Upgrade "1";`,
			map[string]string{keyEnable: "{1", keyUnattended: "1"}},
		{"a statement ends at its semicolon, before a scope on the same line",
			`Foo "x"; APT::Periodic { Enable "0"; };`,
			map[string]string{keyEnable: "0"}},
		{"comments are skipped, block comments across lines too",
			"// APT::Periodic::Enable \"0\";\n/* APT::Periodic::Enable \"0\";\n*/ APT::Periodic::Enable \"1\"; # \"0\"\n",
			map[string]string{keyEnable: "1"}},
		{"list items in a scope and in the flat form add up",
			"Unattended-Upgrade::Origins-Pattern {\n  \"origin=Debian,label=Debian-Security\";\n};\nUnattended-Upgrade::Origins-Pattern:: \"o=Local\";\n",
			map[string]string{keyOriginsPattern: "origin=Debian,label=Debian-Security\no=Local"}},
		{"#clear empties a list read earlier, and later items start it again",
			"Unattended-Upgrade::Allowed-Origins { \"a\"; \"b\"; };\n#clear Unattended-Upgrade::Allowed-Origins;\nUnattended-Upgrade::Allowed-Origins:: \"c\";\n",
			map[string]string{keyAllowedOrigins: "c"}},
		{"#clear of a scope empties the lists under it",
			"Unattended-Upgrade::Origins-Pattern { \"a\"; };\n#clear Unattended-Upgrade;\nAPT::Periodic::Enable \"1\";\n",
			map[string]string{keyEnable: "1"}},
		{"a #clearing comment is only a comment",
			"Unattended-Upgrade::Origins-Pattern { \"a\"; };\n#clearly Unattended-Upgrade::Origins-Pattern;\n",
			map[string]string{keyOriginsPattern: "a"}},
		{"a megabyte of list items",
			strings.Repeat(`Unattended-Upgrade::Origins-Pattern:: "o";`+"\n", mib/43),
			map[string]string{keyOriginsPattern: strings.Repeat("o\n", maxAptList/2) + "o"}},
		// The host reads files of up to 4 MiB: shapes that once took
		// quadratic time (minutes at 1 MiB) are read in one pass.
		{"a megabyte of block comments",
			strings.Repeat("/**/", mib/4) + `APT::Periodic::Enable "1";`,
			map[string]string{keyEnable: "1"}},
		{"a megabyte of nesting",
			"APT::Periodic {" + strings.Repeat("{", mib/2) + strings.Repeat(`a "";`, mib/10) + strings.Repeat("}", mib/2) + ` Enable "1"; };`,
			map[string]string{keyEnable: "1"}},
		{"a megabyte of statements on one line",
			strings.Repeat(`a "";`, mib/5) + `APT::Periodic::Enable "1";`,
			map[string]string{keyEnable: "1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]string{}
			parseAptConf([]byte(tc.conf), got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
		})
	}
}
