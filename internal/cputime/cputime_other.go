//go:build !unix

package cputime

import "time"

// Process is unknown here: 0, and benchmarks then omit CPU figures.
func Process() time.Duration { return 0 }
