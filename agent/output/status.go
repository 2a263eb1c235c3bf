package output

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/postern-dev/postern/agent/state"
	"github.com/postern-dev/postern/checks"
)

// Status is what `postern-agent status --json` prints.
type Status struct {
	Enrolled   bool       `json:"enrolled"`
	DeviceID   string     `json:"device_id"`
	Server     string     `json:"server"`
	EnrolledAt *time.Time `json:"enrolled_at,omitempty"`
	CertSHA256 string     `json:"cert_sha256,omitempty"`
	// LastReport is the last check's local evaluation; LastAck the
	// server's last acknowledgement.
	LastReport *state.ReportInfo `json:"last_report"`
	LastAck    *state.AckInfo    `json:"last_ack"`
	// LastReportAcked says whether the server has the last report.
	LastReportAcked    bool             `json:"last_report_acked"`
	Compliant          *bool            `json:"compliant"`
	PendingReports     int              `json:"pending_reports"`
	DroppedReports     uint64           `json:"dropped_reports"`
	QuarantinedReports uint64           `json:"quarantined_reports"`
	LastError          *state.ErrorInfo `json:"last_error"`
	Access             Access           `json:"access"`
	// Service is the system service's state ("running", "stopped", "not
	// installed", "unknown"); empty when not queried.
	Service string `json:"service,omitempty"`
	// Attestation is the yearly user attestation; nil when not known.
	Attestation *AttestationStatus `json:"attestation,omitempty"`
}

// Access is the agent's local estimate of the gateway's decision; the
// server's, made from the same facts, is the authority.
type Access struct {
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason"`
	// FixFirst is the blocking control to fix first, if any.
	FixFirst *state.Finding `json:"fix_first,omitempty"`
}

// NewStatus assembles the status from the state directory's contents.
// id is nil when the device is not enrolled.
func NewStatus(id *state.Identity, st state.State, pending int, p *checks.Policy, now time.Time) Status {
	s := Status{
		LastReport: st.LastReport, LastAck: st.LastAck, PendingReports: pending,
		DroppedReports: st.DroppedReports, QuarantinedReports: st.QuarantinedReports, LastError: st.LastError,
	}
	if id != nil {
		s.Enrolled, s.DeviceID, s.Server, s.CertSHA256 = true, id.DeviceID, id.Server, id.CertSHA256
		at := id.EnrolledAt
		s.EnrolledAt = &at
	}
	if st.LastReport != nil {
		c := st.LastReport.Compliant
		s.Compliant = &c
		s.LastReportAcked = st.LastAck != nil && st.LastAck.Sequence >= st.LastReport.Sequence
	}
	s.Access = assess(s, p, now)
	return s
}

// assess estimates the gateway's decision: a failing control blocks when
// the policy enforces it (warn_then_block once its grace is over, which
// only the server knows), an unknown one blocks unless the policy allows
// unknowns, and a report older than max_report_age is stale.
func assess(s Status, p *checks.Policy, now time.Time) Access {
	switch {
	case !s.Enrolled:
		return Access{Reason: "this device is not enrolled; run `postern-agent enroll`"}
	case s.LastReport == nil:
		return Access{Reason: "no check has run yet"}
	}
	var blocking []state.Finding
	for _, f := range s.LastReport.Findings {
		if f.Status == checks.StatusUnknown && p.Unknown == checks.UnknownAllow {
			continue
		}
		if f.Enforcement == checks.EnforceBlock || f.Enforcement == checks.EnforceWarnThenBlock {
			blocking = append(blocking, f)
		}
	}
	if len(blocking) > 0 {
		first := blocking[0]
		for _, f := range blocking {
			if f.Status == checks.StatusFail {
				first = f // a definite failure is more useful to fix first
				break
			}
		}
		ids := make([]string, len(blocking))
		for i, f := range blocking {
			ids[i] = string(f.ID)
		}
		return Access{Reason: fmt.Sprintf("%d control(s) block access: %s", len(blocking), strings.Join(ids, ", ")), FixFirst: &first}
	}
	if age := now.Sub(s.LastReport.Time); age > p.MaxReportAge {
		return Access{Reason: fmt.Sprintf("the last check is %s old, past the %s the server accepts; is the agent service running?", age.Round(time.Minute), p.MaxReportAge)}
	}
	if !s.LastReportAcked {
		return Access{Allowed: true, Reason: "the last check passed, but the server has not acknowledged it yet"}
	}
	return Access{Allowed: true, Reason: "the last check passed and the server has it"}
}

// WriteJSON writes the status as indented JSON and a newline.
func (s Status) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(s)
}

// WriteText writes the status for a person, times in UTC RFC 3339.
func (s Status) WriteText(w io.Writer, color bool) error {
	st := pick(color)
	b := &strings.Builder{}
	if s.Enrolled {
		fmt.Fprintf(b, "device:       %s\nserver:       %s\nenrolled:     %s\n", s.DeviceID, s.Server, s.EnrolledAt.UTC().Format(time.RFC3339))
	} else {
		b.WriteString("device:       not enrolled\n")
	}
	if r := s.LastReport; r != nil {
		verdict := "not compliant"
		if r.Compliant {
			verdict = "compliant"
		}
		fmt.Fprintf(b, "last report:  #%d at %s, %s\n", r.Sequence, r.Time.UTC().Format(time.RFC3339), verdict)
	} else {
		b.WriteString("last report:  none\n")
	}
	if a := s.LastAck; a != nil {
		fmt.Fprintf(b, "last ack:     #%d at %s\n", a.Sequence, a.Time.UTC().Format(time.RFC3339))
	} else {
		b.WriteString("last ack:     none\n")
	}
	fmt.Fprintf(b, "pending:      %d report(s) waiting for the server\n", s.PendingReports)
	if s.Attestation != nil {
		b.WriteString(s.Attestation.text())
	}
	if s.Service != "" {
		fmt.Fprintf(b, "service:      %s\n", s.Service)
	}
	if s.DroppedReports > 0 || s.QuarantinedReports > 0 {
		fmt.Fprintf(b, "dropped:      %d unsent (spool limits), %d unreadable\n", s.DroppedReports, s.QuarantinedReports)
	}
	if e := s.LastError; e != nil {
		fmt.Fprintf(b, "last error:   %s at %s\n", oneLine(e.Message), e.Time.UTC().Format(time.RFC3339))
	}
	b.WriteString("\n")
	if s.Access.Allowed {
		fmt.Fprintf(b, "%sIBHIS access: allowed%s — %s.\n", st.pass, st.reset, s.Access.Reason)
	} else {
		fmt.Fprintf(b, "%sIBHIS access: blocked%s — %s.\n", st.fail, st.reset, s.Access.Reason)
	}
	if f := s.Access.FixFirst; f != nil {
		fmt.Fprintf(b, "fix first:    %s (%s): %s\n", f.Title, f.ID, oneLine(f.Summary))
		if f.Remediation != "" {
			fmt.Fprintf(b, "              %s\n", indentLines(f.Remediation, "              "))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
