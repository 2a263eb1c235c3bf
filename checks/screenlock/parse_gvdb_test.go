package screenlock

import (
	"encoding/binary"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks/internal/checktest"
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
			tab, err := parseGVDB(checktest.Testdata(t, "linux", tc.file))
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
	good := checktest.Testdata(t, "linux", "dconf-db__local_locked_600.gvdb")
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
	f.Add(checktest.Testdata(f, "linux", "dconf-db__local_locked_600.gvdb"))
	f.Add(checktest.Testdata(f, "linux", "dconf-user__lock_disabled.gvdb"))
	f.Add(gvdbNested(3, 2))
	f.Fuzz(func(t *testing.T, b []byte) {
		tab, err := parseGVDB(b)
		if err != nil {
			return
		}
		// Every value and table is an item of the file, so there are never
		// more of them than the file has room for, and a key is bounded.
		n := gvdbCount(t, tab)
		if n > len(b)/gvdbItemSize {
			t.Fatalf("%d values and tables from %d bytes", n, len(b))
		}
	})
}

func gvdbCount(t *testing.T, tab *gvdbTable) int {
	n := len(tab.values) + len(tab.tables)
	for k := range tab.values {
		if len(k) > gvdbMaxKeyLen {
			t.Fatalf("key of %d bytes", len(k))
		}
	}
	for _, sub := range tab.tables {
		n += gvdbCount(t, sub)
	}
	return n
}

func TestParseGVDBBoundsSharedTables(t *testing.T) {
	// Tables whose 'H' items all point at one shared table, three levels
	// deep: decoding each reference again would take width³ items of work
	// and memory (10⁹ for this 72 KB file) — the agent would hang.
	b := gvdbNested(1000, 3)
	if _, err := parseGVDB(b); err == nil {
		t.Error("a file whose tables share a table was accepted")
	}
}

// gvdbNested builds a little-endian GVDB file of depth tables of width
// items each: every item of a table but the last is an 'H' item pointing
// at the next table; the last table's items are 'v' items with no value.
func gvdbNested(width, depth int) []byte {
	const header = gvdbHeaderSize
	tableSize := 8 + width*gvdbItemSize // no bloom filter, no buckets
	key := header + depth*tableSize
	b := make([]byte, key+1)
	copy(b, "GVariant")
	le := binary.LittleEndian
	le.PutUint32(b[16:], uint32(header))
	le.PutUint32(b[20:], uint32(header+tableSize))
	for d := 0; d < depth; d++ {
		start := header + d*tableSize
		for i := 0; i < width; i++ {
			it := b[start+8+i*gvdbItemSize:]
			le.PutUint32(it[4:], gvdbNoParent)
			le.PutUint32(it[8:], uint32(key))
			le.PutUint16(it[12:], 1)
			it[14] = 'v'
			if d < depth-1 {
				it[14] = 'H'
				le.PutUint32(it[16:], uint32(start+tableSize))
				le.PutUint32(it[20:], uint32(start+2*tableSize))
			}
		}
	}
	b[key] = 'k'
	return b
}
