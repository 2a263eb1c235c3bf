package output

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/internal/jsonenc"
)

// CheckResult is the JSON object `postern-agent check --json` prints.
type CheckResult struct {
	Device checks.Device `json:"device"`
	// CollectedAt is RFC 3339 in UTC.
	CollectedAt string           `json:"collected_at"`
	Compliant   bool             `json:"compliant"`
	Controls    []checks.Verdict `json:"controls"`
}

// NewCheckResult builds the result of evaluating r.
func NewCheckResult(r *checks.Report, vs []checks.Verdict) CheckResult {
	if vs == nil {
		vs = []checks.Verdict{}
	}
	return CheckResult{
		Device:      r.Device,
		CollectedAt: r.CollectedAt.UTC().Format(time.RFC3339),
		Compliant:   checks.Compliant(vs),
		Controls:    vs,
	}
}

// WriteJSON writes the result as indented JSON and a newline.
func (c CheckResult) WriteJSON(w io.Writer) error {
	enc := jsonenc.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(c)
}

// Styles for the terminal; Plain prints no escape codes.
type style struct{ pass, fail, unknown, na, bold, reset string }

var (
	plain  = style{}
	colour = style{pass: "\x1b[32m", fail: "\x1b[31m", unknown: "\x1b[33m", na: "\x1b[2m", bold: "\x1b[1m", reset: "\x1b[0m"}
)

func pick(color bool) style {
	if color {
		return colour
	}
	return plain
}

func (s style) status(st checks.Status) string {
	label, c := "UNKNOWN", s.unknown
	switch st {
	case checks.StatusPass:
		label, c = "PASS", s.pass
	case checks.StatusFail:
		label, c = "FAIL", s.fail
	case checks.StatusNotApplicable:
		label, c = "N/A", s.na
	}
	return c + fmt.Sprintf("%-7s", label) + s.reset
}

// WriteText writes one line per control (status, ID, title and what was
// observed) and, under each control that failed or could not be
// determined, how to fix it. color adds ANSI colours.
func (c CheckResult) WriteText(w io.Writer, color bool) error {
	s := pick(color)
	b := &strings.Builder{}
	d := c.Device
	fmt.Fprintf(b, "%s%s%s  %s %s (%s/%s), checked %s\n\n", s.bold, d.Hostname, s.reset, d.OSName, d.OSVersion, d.OS, d.Arch, c.CollectedAt)
	width := 0
	for _, v := range c.Controls {
		width = max(width, len(v.ID))
	}
	indent := strings.Repeat(" ", 2+7+2)
	bad := 0
	for _, v := range c.Controls {
		fmt.Fprintf(b, "  %s  %-*s  %s — %s\n", s.status(v.Status), width, v.ID, v.Title, oneLine(v.Summary))
		if v.Status == checks.StatusPass || v.Status == checks.StatusNotApplicable {
			continue
		}
		bad++
		if v.Remediation != "" {
			fmt.Fprintf(b, "%sfix: %s\n", indent, indentLines(v.Remediation, indent+"     "))
		}
	}
	b.WriteString("\n")
	if c.Compliant {
		fmt.Fprintf(b, "%sCOMPLIANT%s: all %d controls pass or do not apply.\n", s.pass, s.reset, len(c.Controls))
	} else {
		fmt.Fprintf(b, "%sNOT COMPLIANT%s: %d of %d controls need attention.\n", s.fail, s.reset, bad, len(c.Controls))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func indentLines(s, indent string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " \r")
	}
	return strings.Join(lines, "\n"+indent)
}
