package alerts

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Kind is what an alert is about.
type Kind string

// Kinds of alerts.
const (
	KindDeviceBlocked     Kind = "device_blocked"
	KindPolicyHeld        Kind = "policy_held"
	KindExceptionExpiring Kind = "exception_expiring"
	KindAuditBroken       Kind = "audit_broken"
	KindCertExpiring      Kind = "certificate_expiring"
)

var kindTitles = map[Kind]string{
	KindDeviceBlocked:     "device blocked",
	KindPolicyHeld:        "policy change held",
	KindExceptionExpiring: "exception expiring",
	KindAuditBroken:       "audit log broken",
	KindCertExpiring:      "certificate expiring",
}

// Alert is one thing to tell.
type Alert struct {
	Kind Kind
	// Title is one line ("Device ws-114 blocked"); Text says more, in
	// plain words, with what to do.
	Title, Text string
	At          time.Time
}

// Batch is the alerts sent in one message, oldest first, and how many
// more were raised but left out (too many for one message, or dropped
// when the queue was full).
type Batch struct {
	Alerts  []Alert
	Omitted int
}

// Subject is the batch's one-line summary: "[Postern] Device ws-114
// blocked" for one alert, "[Postern] 3 alerts: 2 device blocked, 1 ..."
// for several.
func (b Batch) Subject() string {
	n := len(b.Alerts) + b.Omitted
	if len(b.Alerts) == 1 && b.Omitted == 0 {
		return "[Postern] " + b.Alerts[0].Title
	}
	count := map[Kind]int{}
	for _, a := range b.Alerts {
		count[a.Kind]++
	}
	kinds := make([]string, 0, len(count))
	for k, c := range count {
		kinds = append(kinds, fmt.Sprintf("%d %s", c, kindTitles[k]))
	}
	sort.Strings(kinds)
	return fmt.Sprintf("[Postern] %d alerts: %s", n, strings.Join(kinds, ", "))
}

// timeText is how alerts show times: UTC, to the minute.
func timeText(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// PlainText is the batch as plain text (email bodies).
func (b Batch) PlainText() string {
	var sb strings.Builder
	for _, a := range b.Alerts {
		fmt.Fprintf(&sb, "* %s (%s)\n", a.Title, timeText(a.At))
		if a.Text != "" {
			fmt.Fprintf(&sb, "  %s\n", a.Text)
		}
		sb.WriteString("\n")
	}
	if b.Omitted > 0 {
		fmt.Fprintf(&sb, "%d more alerts are not listed here: see the dashboard's audit log.\n", b.Omitted)
	}
	return sb.String()
}
