package clock

import "time"

// Now is the current time as Postern sees it: the wall clock, moved by the
// test shift in postern_clockshift builds.
func Now() time.Time { return time.Now().Add(shift) }

// Since is Now().Sub(t).
func Since(t time.Time) time.Duration { return Now().Sub(t) }

// Until is t.Sub(Now()).
func Until(t time.Time) time.Duration { return t.Sub(Now()) }

// Shift is how far Now runs ahead of the wall clock: zero outside
// postern_clockshift builds. Tests that compare with time.Now (file
// modification times set by the kernel, say) add it.
func Shift() time.Duration { return shift }
