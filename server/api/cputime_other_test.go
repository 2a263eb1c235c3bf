//go:build !unix

package api

import "time"

// processCPU is unknown here; benchmarks then omit CPU figures.
func processCPU() time.Duration { return 0 }
