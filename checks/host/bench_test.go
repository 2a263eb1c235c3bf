package host_test

import (
	"path/filepath"
	"strconv"
	"testing"

	"github.com/postern-dev/postern/checks/host"
)

func BenchmarkSaveAndOpenArchive(b *testing.B) {
	f := sampleHost()
	dir := b.TempDir()
	i := 0
	for b.Loop() {
		i++
		p := filepath.Join(dir, "s"+strconv.Itoa(i)+".tar.gz")
		if err := f.Save(p); err != nil {
			b.Fatal(err)
		}
		if _, err := host.OpenSnapshot(p); err != nil {
			b.Fatal(err)
		}
	}
}
