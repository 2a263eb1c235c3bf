package ospatched

import (
	"strings"
	"time"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/plistval"
	"github.com/postern-dev/postern/checks/internal/textlines"
)

// macUpdate is one entry of `softwareupdate --list`.
type macUpdate struct {
	Label, Title, Version string
	Recommended           bool
}

// parseSoftwareUpdateList reads `softwareupdate --list` (macOS 10.15 and
// later): a line "* Label: macOS Sonoma 14.5-23F79" per update, then a
// tab-indented "Title: macOS Sonoma 14.5, Version: 14.5, Size: 6543210K,
// Recommended: YES, Action: restart," line.
// "No new software available." (on stderr) means none.
func parseSoftwareUpdateList(b []byte) []macUpdate {
	var out []macUpdate
	for line := range textlines.Each(decodeText(b)) {
		line = strings.TrimSpace(line)
		if l, ok := strings.CutPrefix(line, "* Label:"); ok {
			out = append(out, macUpdate{Label: strings.TrimSpace(l)})
			continue
		}
		if !strings.HasPrefix(line, "Title:") || len(out) == 0 {
			continue
		}
		u := &out[len(out)-1]
		for _, field := range strings.Split(line, ", ") {
			k, v, _ := strings.Cut(field, ":")
			v = strings.TrimSpace(strings.TrimSuffix(v, ","))
			switch strings.TrimSpace(k) {
			case "Title":
				u.Title = v
			case "Version":
				u.Version = v
			case "Recommended":
				u.Recommended = strings.EqualFold(v, "YES")
			}
		}
	}
	return out
}

// noSoftwareUpdateAnswer returns why the output of a `softwareupdate
// --list` that listed nothing does not say "nothing pending", or "" when
// it does ("No new software available." on either stream, and no line of
// either stream reporting an error).
func noSoftwareUpdateAnswer(out host.Output) string {
	none := false
	for _, b := range [][]byte{out.Stdout, out.Stderr} {
		for line := range textlines.Each(decodeText(b)) {
			line = strings.TrimSpace(line)
			if strings.Contains(line, "No new software available") {
				none = true
				continue
			}
			if l := strings.ToLower(line); strings.Contains(l, "error") || strings.Contains(l, "failed") || strings.Contains(l, "can't") || strings.Contains(l, "can’t") || strings.Contains(l, "cannot") || strings.Contains(l, "unable") {
				return "the scan reported a problem: " + clip(line, 200)
			}
		}
	}
	if !none {
		return "it exited 0 but listed no update and did not say \"No new software available.\", so the scan gave no answer"
	}
	return ""
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// isMacSecurityUpdate decides whether an offered update carries security
// fixes the device must install: a macOS update within the running major
// version, a security update or response, Safari, or any other
// recommended update that is not an upgrade to another major macOS.
// Never a beta (a pre-release the device is not expected to run) nor
// Apple's developer tools (Command Line Tools, Xcode), which Software
// Update recommends to whoever installed them once.
func isMacSecurityUpdate(u macUpdate, runningMajor string) bool {
	t := strings.ToLower(u.Title + " " + u.Label)
	if isBeta(t) || strings.Contains(t, "command line tools") || strings.Contains(t, "command line developer tools") || strings.HasPrefix(t, "xcode") {
		return false
	}
	if strings.HasPrefix(t, "macos") {
		major, _, _ := strings.Cut(u.Version, ".")
		return major == runningMajor || strings.Contains(t, "security")
	}
	return u.Recommended || strings.Contains(t, "security")
}

// isBeta says whether a lower-cased title and label name a beta: "macOS
// Ventura 13.4 Beta", "macOS Ventura 13.3 Beta 3-22E5236f".
func isBeta(t string) bool {
	for _, w := range strings.FieldsFunc(t, func(r rune) bool { return r == ' ' || r == '-' || r == ',' }) {
		if w == "beta" {
			return true
		}
	}
	return false
}

// installHistory is /Library/Receipts/InstallHistory.plist.
type installHistory []struct {
	Date        time.Time `plist:"date"`
	DisplayName string    `plist:"displayName"`
	ProcessName string    `plist:"processName"`
}

// lastMacInstall is the newest install made by Software Update.
func lastMacInstall(b []byte) (time.Time, string, bool) {
	var h installHistory
	if _, err := plistval.Unmarshal(b, &h); err != nil {
		return time.Time{}, "", false
	}
	var best time.Time
	var name string
	for _, e := range h {
		p := strings.ToLower(e.ProcessName)
		if (p == "softwareupdated" || p == "software update" || p == "macos installer") && e.Date.After(best) {
			best, name = e.Date, e.DisplayName
		}
	}
	return best.UTC(), name, !best.IsZero()
}
