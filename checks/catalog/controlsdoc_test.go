package catalog_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
)

// passRow is one row of docs/controls.md: an OS cell and the summary
// patterns a pass on that path begins with.
type passRow struct {
	os       string
	patterns []string
}

// placeholder marks the variable parts of a documented summary.
var placeholder = regexp.MustCompile(`…|\bN\b|\bDATE\b|\bBUILD\b|\bPROGRAM\b|\bSOURCE\b`)

var quoted = regexp.MustCompile("`([^`]+)`")

// readControlsDoc parses docs/controls.md into each control's rows.
func readControlsDoc(t *testing.T) map[checks.ControlID][]passRow {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "controls.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[checks.ControlID][]passRow{}
	var current checks.ControlID
	var last []string
	for line := range strings.SplitSeq(string(b), "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			current = checks.ControlID(strings.Trim(strings.TrimSpace(h), "`"))
			last = nil
			continue
		}
		cells := strings.Split(line, "|")
		if current == "" || len(cells) < 6 {
			continue
		}
		osCell, summary := strings.TrimSpace(cells[1]), strings.TrimSpace(cells[len(cells)-2])
		if osCell == "OS" || strings.HasPrefix(osCell, "---") {
			continue
		}
		var pats []string
		if strings.HasPrefix(summary, "same") {
			// "same" repeats the row above's patterns, and may add some.
			pats = append(pats, last...)
		}
		for _, m := range quoted.FindAllStringSubmatch(summary, -1) {
			pats = append(pats, m[1])
		}
		last = pats
		rows[current] = append(rows[current], passRow{os: osCell, patterns: pats})
	}
	return rows
}

// matches reports whether summary holds the pattern's literal parts in order.
func matches(summary, pattern string) bool {
	rest := summary
	for _, part := range placeholder.Split(pattern, -1) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		i := strings.Index(rest, part)
		if i < 0 {
			return false
		}
		rest = rest[i+len(part):]
	}
	return true
}

func (r passRow) covers(goos string) bool {
	name := goos
	if goos == "darwin" {
		name = "macos"
	}
	return r.os == "all" || r.os == name || strings.HasPrefix(r.os, name+" ")
}

// TestControlsDocumentsEveryPassPath holds docs/controls.md to the code:
// every control has rows for every OS, and every pass of the compliant
// fixtures begins as one of its OS's rows says.
func TestControlsDocumentsEveryPassPath(t *testing.T) {
	doc := readControlsDoc(t)
	for _, id := range checks.AllControlIDs {
		for _, goos := range []string{"linux", "windows", "darwin"} {
			found := false
			for _, r := range doc[id] {
				found = found || r.covers(goos)
			}
			if !found {
				t.Errorf("docs/controls.md has no %s row for %s", goos, id)
			}
		}
	}
	for _, goos := range []string{"linux", "windows", "darwin"} {
		for _, v := range evaluateSnapshot(t, goos+"-compliant") {
			if v.Status != checks.StatusPass {
				continue
			}
			ok := false
			for _, r := range doc[v.ID] {
				if !r.covers(goos) {
					continue
				}
				for _, p := range r.patterns {
					ok = ok || matches(v.Summary, p)
				}
			}
			if !ok {
				t.Errorf("%s passes on %s with %q, which no row of docs/controls.md describes", v.ID, goos, v.Summary)
			}
		}
	}
}

func TestControlsDocPatterns(t *testing.T) {
	tests := []struct {
		name, summary, pattern string
		want                   bool
	}{
		{"literal parts in order match", "Debian 12 is supported until 2028-08-09, then by Debian LTS until 2030-06-30", "… is supported until DATE", true},
		{"numbers stand for N", "length 12, 3 classes, expiry 90 days, history 6, lockout after 5 failures", "length N, N classes, expiry N days, history N, lockout after N failures", true},
		{"a missing part does not match", "the firewall is off", "the firewall drops unsolicited inbound traffic", false},
		{"parts out of order do not match", "b then a", "a … b", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := matches(tc.summary, tc.pattern); got != tc.want {
				t.Errorf("matches(%q, %q) = %v, want %v", tc.summary, tc.pattern, got, tc.want)
			}
		})
	}
}
