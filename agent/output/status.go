package output

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/postern-dev/postern/agent/state"
	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/internal/jsonenc"
)

// Status is what `postern-agent status --json` prints.
type Status struct {
	Enrolled bool   `json:"enrolled"`
	DeviceID string `json:"device_id"`
	Server   string `json:"server"`
	// Servers are the server's replicas the agent fails over between;
	// ConnectedServer is the last one it reached, LastFailover the last
	// time that was not the one it tried first.
	Servers         []string            `json:"servers,omitempty"`
	ConnectedServer string              `json:"connected_server,omitempty"`
	LastFailover    *state.FailoverInfo `json:"last_failover,omitempty"`
	EnrolledAt      *time.Time          `json:"enrolled_at,omitempty"`
	CertSHA256      string              `json:"cert_sha256,omitempty"`
	// Key is what the server verified of the device key, as its
	// decisions say: "hardware" (attested to be in a trusted TPM) or
	// "software"; empty when not enrolled.
	Key string `json:"key,omitempty"`
	// KeyStore is where the key lives: "tpm" (Linux), "platform_crypto_provider"
	// (Windows, in the TPM through CNG) or "file". A key in the TPM that
	// the server could not verify is "software" in Key.
	KeyStore string `json:"key_store,omitempty"`
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
	// ServerDecision is the server's decision as its last ack carried
	// it; nil when none was received.
	ServerDecision *state.Decision `json:"server_decision"`
	// Refused is set when the server refused this device's identity for
	// good: it reports no more until enrolled again.
	Refused *state.Refusal `json:"refused,omitempty"`
	// Service is the system service's state ("running", "stopped", "not
	// installed", "unknown"); empty when not queried.
	Service string `json:"service,omitempty"`
	// Attestation is the yearly user attestation; nil when not known.
	Attestation *AttestationStatus `json:"attestation,omitempty"`
	// Enrollment is the service's progress with an enrollment left by an
	// installer; nil when none is pending.
	Enrollment *EnrollmentStatus `json:"enrollment,omitempty"`
}

// Access is the gateway's decision as the agent knows it: the server's,
// from its last ack, when there is one (Source "server"); otherwise the
// agent's own estimate from the same facts (Source "local").
type Access struct {
	Allowed bool `json:"allowed"`
	// State is "allowed", "blocked", "allowed_by_exception" or "warned"
	// (the server's words); "allowed" or "blocked" for an estimate.
	State string `json:"state"`
	// Deadline is when a warning starts to block; zero if none will.
	Deadline time.Time `json:"deadline,omitzero"`
	Source   string    `json:"source"`
	Reason   string    `json:"reason"`
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
		if len(id.Servers) > 0 {
			s.Servers = id.ServerList()
		}
		s.ConnectedServer, s.LastFailover = st.ConnectedServer, st.LastFailover
		at := id.EnrolledAt
		s.EnrolledAt = &at
	}
	if st.LastReport != nil {
		c := st.LastReport.Compliant
		s.Compliant = &c
		s.LastReportAcked = st.LastAck != nil && st.LastAck.Sequence >= st.LastReport.Sequence
	}
	if st.LastAck != nil {
		s.ServerDecision = st.LastAck.Decision
	}
	if id != nil && st.Refused.Applies(id.CertSHA256) {
		s.Refused = st.Refused
	}
	s.Access = assess(s, p, now)
	if s.Access.State == "" {
		s.Access.State = map[bool]string{true: "allowed", false: "blocked"}[s.Access.Allowed]
	}
	return s
}

// Blocked reports whether the device may not open IBHIS now, as far as
// the agent knows; `status` exits non-zero then.
func (s Status) Blocked() bool { return !s.Access.Allowed }

// assess estimates the gateway's decision: a failing control blocks when
// the policy enforces it (warn_then_block once its grace is over, which
// only the server knows), an unknown one blocks unless the policy allows
// unknowns, and a report older than max_report_age is stale.
func assess(s Status, p *checks.Policy, now time.Time) Access {
	switch {
	case !s.Enrolled:
		return Access{Source: "local", Reason: "this device is not enrolled; run `postern-agent enroll`"}
	case s.Refused != nil:
		return Access{Source: "server", Reason: strings.TrimSuffix(s.Refused.Message, ".")}
	case s.LastReport == nil:
		return Access{Source: "local", Reason: "no check has run yet"}
	}
	if age := now.Sub(s.LastReport.Time); age > p.MaxReportAge {
		return Access{Source: "local", Reason: fmt.Sprintf("the last check is %s old, past the %s the server accepts; is the agent service running?", age.Round(time.Minute), p.MaxReportAge)}
	}
	if d := s.ServerDecision; d != nil {
		return fromServer(s, d)
	}
	a := estimate(s, p)
	a.Source = "local"
	return a
}

// CodeEnrollmentPending is the server's reason for a device whose
// enrollment waits for an administrator (server/decision).
const CodeEnrollmentPending = "enrollment_pending"

// StateWaitingForApproval is Access.State while the server holds the
// device's enrollment for approval.
const StateWaitingForApproval = "waiting_for_approval"

// fromServer is the server's decision for the person at the laptop.
func fromServer(s Status, d *state.Decision) Access {
	a := Access{Allowed: d.Allow, State: d.Access, Deadline: d.Deadline, Source: "server"}
	at := d.EvaluatedAt.UTC().Format(time.RFC3339)
	for _, r := range d.Reasons {
		if r.Code == CodeEnrollmentPending {
			// Nothing at the laptop can fix it: say what it waits for.
			a.State = StateWaitingForApproval
			a.Reason = fmt.Sprintf("the server's decision at %s: %s; the device reports meanwhile", at, oneLine(r.Message))
			return a
		}
	}
	if !d.Allow {
		var codes []string
		for _, r := range d.Reasons {
			codes = append(codes, reasonWords(r))
			if a.FixFirst == nil && r.Control != "" {
				a.FixFirst = findingFor(s, r)
			}
		}
		a.Reason = fmt.Sprintf("the server's decision at %s: %s", at, strings.Join(codes, "; "))
		return a
	}
	switch d.Access {
	case "allowed_by_exception":
		var waived []string
		for _, w := range d.Warnings {
			waived = append(waived, w.Control)
		}
		a.Reason = fmt.Sprintf("allowed by exception (the server's decision at %s): %s is waived for now; fix it before the exception ends", at, strings.Join(waived, ", "))
	case "warned":
		var ws []string
		for _, w := range d.Warnings {
			ws = append(ws, reasonWords(w))
			if a.FixFirst == nil && w.Control != "" && w.Code != "exception_applied" {
				a.FixFirst = findingFor(s, w)
			}
		}
		until := ""
		if !d.Deadline.IsZero() {
			until = " until " + d.Deadline.UTC().Format(time.RFC3339)
		}
		a.Reason = fmt.Sprintf("allowed%s, with warnings (the server's decision at %s): %s", until, at, strings.Join(ws, "; "))
	default:
		a.Reason = "the server's decision at " + at + ": the device meets the policy"
	}
	if !s.LastReportAcked {
		a.Reason += "; the last check is not acknowledged yet"
	}
	return a
}

// reasonWords is a reason as "control: message", or its message.
func reasonWords(r state.DecisionReason) string {
	if r.Control != "" {
		return r.Control + ": " + oneLine(r.Message)
	}
	return oneLine(r.Message)
}

// findingFor is the last check's finding about the reason's control, or
// one made from the reason.
func findingFor(s Status, r state.DecisionReason) *state.Finding {
	if s.LastReport != nil {
		for _, f := range s.LastReport.Findings {
			if string(f.ID) == r.Control {
				return &f
			}
		}
	}
	id := checks.ControlID(r.Control)
	return &state.Finding{ID: id, Title: id.Title(), Summary: r.Message, Remediation: r.Remediation}
}

// estimate is the agent's own guess of the decision when the server sent
// none.
func estimate(s Status, p *checks.Policy) Access {
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
	if !s.LastReportAcked {
		return Access{Allowed: true, Reason: "the last check passed, but the server has not acknowledged it yet"}
	}
	return Access{Allowed: true, Reason: "the last check passed and the server has it"}
}

// WriteJSON writes the status as indented JSON and a newline.
func (s Status) WriteJSON(w io.Writer) error {
	enc := jsonenc.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// WriteText writes the status for a person, times in UTC RFC 3339.
func (s Status) WriteText(w io.Writer, color bool) error {
	st := pick(color)
	b := &strings.Builder{}
	if s.Enrolled {
		fmt.Fprintf(b, "device:       %s\nserver:       %s\nenrolled:     %s\n", s.DeviceID, s.Server, s.EnrolledAt.UTC().Format(time.RFC3339))
		if s.Key != "" {
			fmt.Fprintf(b, "device key:   %s\n", KeyLine(s.Key, s.KeyStore))
		}
		if len(s.Servers) > 0 {
			fmt.Fprintf(b, "replicas:     %s\n", strings.Join(s.Servers, ", "))
		}
		if s.ConnectedServer != "" && s.ConnectedServer != s.Server {
			fmt.Fprintf(b, "connected to: %s\n", s.ConnectedServer)
		}
		if f := s.LastFailover; f != nil {
			fmt.Fprintf(b, "failed over:  from %s to %s at %s (%s)\n", f.From, f.To, f.At.UTC().Format(time.RFC3339), f.Error)
		}
	} else {
		b.WriteString("device:       not enrolled\n")
	}
	if s.Enrollment != nil {
		b.WriteString(s.Enrollment.text())
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
	word := strings.ReplaceAll(s.Access.State, "_", " ")
	if s.Access.Allowed {
		fmt.Fprintf(b, "%sIBHIS access: %s%s — %s.\n", st.pass, word, st.reset, s.Access.Reason)
	} else {
		fmt.Fprintf(b, "%sIBHIS access: %s%s — %s.\n", st.fail, word, st.reset, s.Access.Reason)
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

// KeyLine says in words what the server verified of the key and where it
// lives, when the two differ.
func KeyLine(key, store string) string {
	switch {
	case key == "software" && store == "platform_crypto_provider":
		return "software as the server sees it (the key is in the TPM through the Platform Crypto Provider, but not attested)"
	case key == "software" && store == "tpm":
		return "software as the server sees it (the key is in the TPM, but the server trusts no CA of its manufacturer)"
	case key == "software" && store == "file":
		// macOS included: no Secure Enclave key is made in the daemon's
		// context, and the status must not suggest one.
		return "software (a key file in the state directory; no TPM or Secure Enclave holds it)"
	}
	return key
}
