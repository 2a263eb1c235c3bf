package ospatched

import (
	"context"
	"testing"

	"github.com/postern-dev/postern/checks/host/live"
)

// BenchmarkCollectLiveCached measures a check cycle on this machine once
// the slow pending-update search is cached (the first run is not timed).
func BenchmarkCollectLiveCached(b *testing.B) {
	h := live.New()
	if _, err := Collect(context.Background(), h); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Collect(context.Background(), h); err != nil {
			b.Fatal(err)
		}
	}
}
