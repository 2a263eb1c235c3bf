//go:build postern_clockshift

package clock

import (
	"os"
	"testing"
)

// TestShiftIsApplied proves the clock-shift run really runs shifted: the
// Makefile sets the variable, and a zero shift here would mean every other
// test in the run proved nothing.
func TestShiftIsApplied(t *testing.T) {
	if Shift() == 0 {
		t.Fatalf("postern_clockshift build with %s=%q: shift is zero", EnvShift, os.Getenv(EnvShift))
	}
}
