//go:build !unix

package gatewaytest

import "time"

// processCPU is unknown here; benchmarks then omit CPU figures.
func processCPU() time.Duration { return 0 }
