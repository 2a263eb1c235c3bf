//go:build !postern_clockshift

package clock

// shift is zero in every build but the clock-shift test run.
const shift = 0
