//go:build !unix

package ingest

import "time"

// processCPU is not measured on this OS.
func processCPU() (time.Duration, bool) { return 0, false }
