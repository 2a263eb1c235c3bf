package antivirus

import (
	"context"
	"testing"
)

// BenchmarkCollectLinuxClamAV measures a collection from memory: the
// parsing and decision cost, without the programs' own run time.
func BenchmarkCollectLinuxClamAV(b *testing.B) {
	h := clamHost(b, "clamonacc_active")
	for b.Loop() {
		if _, err := Collect(context.Background(), h); err != nil {
			b.Fatal(err)
		}
	}
}
