//go:build !unix

package store

import "time"

// processCPU is not measured on this OS.
func processCPU() (time.Duration, bool) { return 0, false }
