package screenlock

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseGVDB(t *testing.T) {
	tests := []struct {
		name       string
		file       string
		wantValues map[string]string
		wantLocks  []string
	}{
		{"a compiled system database has values and locks", "dconf-db__local_locked_600.gvdb",
			map[string]string{keyIdleDelay: "600", keyLockEnabled: "true", keyLockDelay: "0"},
			[]string{keyIdleDelay, keyLockEnabled}},
		{"a user database has strings, booleans and numbers", "dconf-user__lock_disabled.gvdb",
			map[string]string{keyIdleDelay: "0", keyLockEnabled: "false", keyLockDelay: "30", "/org/gnome/desktop/interface/color-scheme": "prefer-dark"},
			nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tab, err := parseGVDB(testdata(t, "linux", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantValues, tab.values); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
			var locks []string
			if l := tab.tables[".locks"]; l != nil {
				for k := range l.values {
					locks = append(locks, k)
				}
			}
			if diff := cmp.Diff(tc.wantLocks, locks, cmpSorted); diff != "" {
				t.Errorf("locks (-want +got):\n%s", diff)
			}
		})
	}
}

var cmpSorted = cmp.Transformer("sort", func(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

func TestParseGVDBRejectsDamagedFiles(t *testing.T) {
	good := testdata(t, "linux", "dconf-db__local_locked_600.gvdb")
	t.Run("every truncation is an error or a subset, never a panic", func(t *testing.T) {
		for n := 0; n < len(good); n++ {
			_, _ = parseGVDB(good[:n])
		}
	})
	for _, tc := range []struct{ name, data string }{
		{"an empty file is rejected", ""},
		{"a keyfile is rejected", "[org/gnome/desktop/session]\nidle-delay=uint32 600\n"},
		{"a root pointer past the end is rejected", "GVariant\x00\x00\x00\x00\x00\x00\x00\x00\x18\x00\x00\x00\xff\xff\x00\x00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseGVDB([]byte(tc.data)); err == nil {
				t.Error("no error")
			}
		})
	}
}

func FuzzParseGVDB(f *testing.F) {
	f.Add(testdataF(f, "dconf-db__local_locked_600.gvdb"))
	f.Add(testdataF(f, "dconf-user__lock_disabled.gvdb"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseGVDB(b)
	})
}

func testdataF(f *testing.F, name string) []byte {
	f.Helper()
	b, err := os.ReadFile("testdata/linux/" + name)
	if err != nil {
		f.Fatal(err)
	}
	return b
}
