package screenlock

import (
	"math"
	"strconv"
	"strings"
)

// Bounds on what the macOS tools may report, so that a timer converted to
// seconds still fits in an int on every architecture; larger values are
// treated as not reported.
const (
	maxPmsetMinutes = 1 << 24
	maxDelaySeconds = math.MaxInt32
)

// pmsetProfile is one power source's timers from `pmset -g custom`, in
// minutes; -1 when the line is missing.
type pmsetProfile struct {
	displaySleep, sleep int
}

// parsePmsetCustom reads `pmset -g custom`: a "Battery Power:" and an "AC
// Power:" (and on some machines "UPS Power:") header, each followed by
// indented "name value" lines. The headers are not translated. It returns
// the profiles by power source (PowerAC, PowerBattery).
func parsePmsetCustom(b []byte) map[string]pmsetProfile {
	out := map[string]pmsetProfile{}
	cur := ""
	for _, line := range strings.Split(decodeText(b), "\n") {
		line = strings.TrimRight(line, "\r")
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "Battery Power"):
			cur = PowerBattery
			out[cur] = pmsetProfile{-1, -1}
			continue
		case strings.HasPrefix(trimmed, "AC Power"):
			cur = PowerAC
			out[cur] = pmsetProfile{-1, -1}
			continue
		case strings.HasSuffix(trimmed, ":") && !strings.HasPrefix(line, " "):
			cur = "" // UPS Power and anything new
			continue
		}
		if cur == "" {
			continue
		}
		fields := strings.Fields(trimmed)
		if len(fields) < 2 {
			continue
		}
		n, err := strconv.Atoi(fields[1])
		if err != nil || n < 0 || n > maxPmsetMinutes {
			continue
		}
		p := out[cur]
		switch fields[0] {
		case "displaysleep":
			p.displaySleep = n
		case "sleep":
			p.sleep = n
		}
		out[cur] = p
	}
	return out
}

// parseScreenLockStatus reads `sysadminctl -screenLock status`, printed on
// stderr after a timestamp: "screenLock delay is immediate", "screenLock
// delay is 300 seconds" or "screenLock is off" (some releases print a
// delay of -1 for off). ok is false when the output says none of these.
func parseScreenLockStatus(b []byte) (required bool, delay int, ok bool) {
	text := strings.ToLower(decodeText(b))
	switch {
	case strings.Contains(text, "screenlock is off"):
		return false, 0, true
	case strings.Contains(text, "screenlock delay is immediate"):
		return true, 0, true
	}
	i := strings.Index(text, "screenlock delay is ")
	if i < 0 {
		return false, 0, false
	}
	fields := strings.Fields(text[i+len("screenlock delay is "):])
	if len(fields) == 0 {
		return false, 0, false
	}
	f, err := strconv.ParseFloat(fields[0], 64)
	if err != nil || math.IsNaN(f) || f > maxDelaySeconds {
		return false, 0, false
	}
	if f < 0 {
		return false, 0, true
	}
	return true, int(f), true
}
