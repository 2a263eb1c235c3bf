//go:build postern_clockshift

package clock

import (
	"fmt"
	"os"
	"time"

	"github.com/postern-dev/postern/internal/duration"
)

// EnvShift names the variable that moves Now in postern_clockshift builds.
const EnvShift = "POSTERN_TEST_CLOCK_SHIFT"

var shift = mustShift(os.Getenv(EnvShift))

// mustShift panics on a missing or bad value: a clock-shift run that
// silently ran unshifted would prove nothing.
func mustShift(v string) time.Duration {
	if v == "" {
		panic(fmt.Sprintf("clock: built with postern_clockshift but %s is not set (e.g. %s=400d)", EnvShift, EnvShift))
	}
	d, err := duration.Parse(v)
	if err != nil {
		panic(fmt.Sprintf("clock: %s: %v", EnvShift, err))
	}
	return d
}
