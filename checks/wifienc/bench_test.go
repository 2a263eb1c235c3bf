package wifienc

import (
	"context"
	"testing"
)

// BenchmarkCollectLinux measures the collector's own work on a replayed
// laptop on an open network behind WireGuard (the longest Linux path).
func BenchmarkCollectLinux(b *testing.B) {
	h := viaKernelWG(b, withNM(b, laptop(b), "busctl__ap_flags_open.txt"))
	ctx := context.Background()
	for b.Loop() {
		if _, err := Collect(ctx, h); err != nil {
			b.Fatal(err)
		}
	}
}
