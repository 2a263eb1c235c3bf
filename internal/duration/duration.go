package duration

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Day is 24 hours: a calendar day ignoring daylight-saving changes, which is
// what "--for 30d" means to an administrator.
const Day = 24 * time.Hour

// Parse reads a duration in Go's syntax ("90m", "720h", "1h30m") or in
// whole days ("30d"), optionally combined ("1d12h"). Negative durations are
// accepted only when the caller asks for them by checking the sign itself.
func Parse(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, fmt.Errorf("empty duration (want e.g. 30d, 12h or 90m)")
	}
	neg := false
	rest := in
	if rest[0] == '-' || rest[0] == '+' {
		neg = rest[0] == '-'
		rest = rest[1:]
	}
	var days time.Duration
	if i := strings.IndexByte(rest, 'd'); i >= 0 {
		n, err := strconv.ParseUint(rest[:i], 10, 32)
		if err != nil || i == 0 {
			return 0, fmt.Errorf("invalid duration %q (want e.g. 30d, 12h or 90m)", s)
		}
		if n > 100*365 {
			return 0, fmt.Errorf("invalid duration %q: more than 100 years", s)
		}
		days = time.Duration(n) * Day
		rest = rest[i+1:]
	}
	var d time.Duration
	if rest != "" {
		var err error
		d, err = time.ParseDuration(rest)
		if err != nil || strings.HasPrefix(rest, "-") || strings.HasPrefix(rest, "+") {
			return 0, fmt.Errorf("invalid duration %q (want e.g. 30d, 12h or 90m)", s)
		}
	}
	d += days
	if neg {
		d = -d
	}
	return d, nil
}

// Format writes d as Parse reads it, with whole days as "d": 720h is
// "30d", 36h is "1d12h0m0s".
func Format(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	days := d / Day
	rest := d % Day
	switch {
	case days == 0:
		return sign + rest.String()
	case rest == 0:
		return fmt.Sprintf("%s%dd", sign, days)
	default:
		return fmt.Sprintf("%s%dd%s", sign, days, rest)
	}
}

// Value is a pflag.Value (and flag.Value) holding a duration that accepts
// days. Use it with FlagSet.Var: f.Var(duration.NewValue(&opts.For, 0), "for", "...").
type Value struct{ d *time.Duration }

// NewValue points a Value at d and sets the default.
func NewValue(d *time.Duration, def time.Duration) *Value {
	*d = def
	return &Value{d: d}
}

// Set parses s into the duration.
func (v *Value) Set(s string) error {
	d, err := Parse(s)
	if err != nil {
		return err
	}
	*v.d = d
	return nil
}

// String returns the duration as Parse would read it.
func (v *Value) String() string {
	if v == nil || v.d == nil {
		return "0s"
	}
	return Format(*v.d)
}

// Type names the flag's value in --help.
func (v *Value) Type() string { return "duration" }
