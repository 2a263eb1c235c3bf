package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/postern-dev/postern/checks"
)

// State is state.json: the agent's progress, kept across restarts.
type State struct {
	// NextSequence is the sequence number the next report will carry.
	// Numbers are reserved before the report is spooled, so a crash never
	// reuses one.
	NextSequence uint64      `json:"next_sequence"`
	LastReport   *ReportInfo `json:"last_report,omitempty"`
	LastAck      *AckInfo    `json:"last_ack,omitempty"`
	LastError    *ErrorInfo  `json:"last_error,omitempty"`
	// DroppedReports counts reports the spool discarded unsent because
	// they exceeded its age or size limit.
	DroppedReports uint64 `json:"dropped_reports"`
	// QuarantinedReports counts spool files that could not be decoded.
	QuarantinedReports uint64 `json:"quarantined_reports"`
	// LastAttestation is the last user attestation the server recorded
	// (a pending one is in PendingAttestationFile).
	LastAttestation *AttestationInfo `json:"last_attestation,omitempty"`
	// Refused is set when the server refused this device's identity for
	// good (revoked, inactive, unknown, expired certificate): the agent
	// stops reporting until the device enrolls again.
	Refused *Refusal `json:"refused,omitempty"`
	// ConnectedServer is the address of the last successful connection;
	// LastFailover the last time it was not the one tried first.
	ConnectedServer string        `json:"connected_server,omitempty"`
	LastFailover    *FailoverInfo `json:"last_failover,omitempty"`
}

// Refusal reasons.
const (
	RefusedRevoked  = "revoked"
	RefusedInactive = "inactive"
	RefusedUnknown  = "unknown"
	// RefusedAgentSecret: the server refused this agent's proof of its
	// agent secret (agent.secret lost or replaced).
	RefusedAgentSecret = "agent_secret"
	RefusedExpired     = "expired"
)

// Refusal is the server's refusal of one device identity.
type Refusal struct {
	// Reason is one of the Refused* values.
	Reason string `json:"reason"`
	// Message says it in plain words, with what to do.
	Message string    `json:"message"`
	Time    time.Time `json:"time"`
	// CertSHA256 is the refused certificate's: a new enrollment (a new
	// certificate) is not refused.
	CertSHA256 string `json:"cert_sha256"`
}

// Applies reports whether the refusal is about the identity with the
// certificate hash certSHA256.
func (r *Refusal) Applies(certSHA256 string) bool {
	return r != nil && r.CertSHA256 != "" && r.CertSHA256 == certSHA256
}

// Decision is the server's access decision for the device, as its last
// ack carried it (the decision API's answer).
type Decision struct {
	Allow bool `json:"allow"`
	// Access is "allowed", "blocked", "allowed_by_exception" or "warned".
	Access string `json:"access"`
	// Deadline is when a warning starts to block; zero if none will.
	Deadline    time.Time        `json:"deadline,omitzero"`
	Reasons     []DecisionReason `json:"reasons"`
	Warnings    []DecisionReason `json:"warnings,omitempty"`
	EvaluatedAt time.Time        `json:"evaluated_at"`
}

// DecisionReason is one reason or warning of a Decision.
type DecisionReason struct {
	Code        string    `json:"code"`
	Control     string    `json:"control,omitempty"`
	Message     string    `json:"message"`
	Remediation string    `json:"remediation,omitempty"`
	Until       time.Time `json:"until,omitzero"`
}

// FailoverInfo is a connection made to another replica than the one
// tried first, because that one could not be reached.
type FailoverInfo struct {
	From  string    `json:"from"`
	To    string    `json:"to"`
	At    time.Time `json:"at"`
	Error string    `json:"error"`
}

// ReportInfo summarises the last check cycle's local evaluation.
type ReportInfo struct {
	Sequence  uint64    `json:"sequence"`
	Time      time.Time `json:"time"`
	Compliant bool      `json:"compliant"`
	// Findings lists the controls that did not pass, in display order.
	Findings []Finding `json:"findings"`
}

// Finding is one control that failed or could not be determined.
type Finding struct {
	ID          checks.ControlID   `json:"id"`
	Title       string             `json:"title"`
	Status      checks.Status      `json:"status"`
	Summary     string             `json:"summary"`
	Remediation string             `json:"remediation,omitempty"`
	Enforcement checks.Enforcement `json:"enforcement"`
}

// AckInfo records the server's last acknowledgement.
type AckInfo struct {
	Sequence  uint64    `json:"sequence"`
	Time      time.Time `json:"time"`
	Duplicate bool      `json:"duplicate,omitempty"`
	// Decision is the server's decision sent with the ack; nil from a
	// server that does not send one.
	Decision *Decision `json:"decision,omitempty"`
}

// ErrorInfo records the last delivery or enrollment error.
type ErrorInfo struct {
	Time    time.Time `json:"time"`
	Message string    `json:"message"`
}

// LoadState reads state.json. A missing file is a fresh state whose first
// sequence number is 1.
func (d *Dir) LoadState() (State, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.loadState()
}

func (d *Dir) loadState() (State, error) {
	b, err := d.read(StateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return State{NextSequence: 1}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("load state: %w", err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return State{}, fmt.Errorf("load state: %w: %v", ErrCorrupt, err)
	}
	if st.NextSequence == 0 {
		st.NextSequence = 1
	}
	return st, nil
}

// UpdateState applies fn to the current state and writes the result
// atomically; concurrent updates within the process are serialised.
func (d *Dir) UpdateState(fn func(*State)) (State, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	st, err := d.loadState()
	if err != nil {
		return State{}, err
	}
	fn(&st)
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return State{}, fmt.Errorf("encode state: %w", err)
	}
	if err := d.write(StateFile, append(b, '\n'), 0o600); err != nil {
		return State{}, fmt.Errorf("save state: %w", err)
	}
	return st, nil
}

// ReserveSequence returns the next report sequence number and durably
// advances the counter before the caller uses it.
func (d *Dir) ReserveSequence() (uint64, error) {
	var seq uint64
	_, err := d.UpdateState(func(s *State) {
		seq = s.NextSequence
		s.NextSequence++
	})
	return seq, err
}

// LoadPolicy returns the policy the server last pushed, or the built-in
// default when none has been received.
func (d *Dir) LoadPolicy() (*checks.Policy, error) {
	b, err := d.read(PolicyFile)
	if errors.Is(err, fs.ErrNotExist) {
		return checks.DefaultPolicy(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("load policy: %w", err)
	}
	p, err := checks.ParsePolicy(b)
	if err != nil {
		return nil, fmt.Errorf("load policy: %w", err)
	}
	return p, nil
}

// SavePolicy validates and stores a policy pushed by the server.
func (d *Dir) SavePolicy(yaml []byte) (*checks.Policy, error) {
	p, err := checks.ParsePolicy(yaml)
	if err != nil {
		return nil, err
	}
	if err := d.write(PolicyFile, yaml, 0o600); err != nil {
		return nil, fmt.Errorf("save policy: %w", err)
	}
	return p, nil
}

// FindingsFrom lists the verdicts that did not pass, in display order,
// with the enforcement the policy gives each control.
func FindingsFrom(vs []checks.Verdict, p *checks.Policy) []Finding {
	out := []Finding{}
	for _, v := range vs {
		if v.Status == checks.StatusPass || v.Status == checks.StatusNotApplicable {
			continue
		}
		out = append(out, Finding{
			ID: v.ID, Title: v.Title, Status: v.Status, Summary: v.Summary,
			Remediation: v.Remediation, Enforcement: p.Control(v.ID).Enforcement,
		})
	}
	return out
}

// PolicyBytes returns the stored policy file as pushed, so that a push of
// the same policy can be recognised; a missing file matches fs.ErrNotExist.
func (d *Dir) PolicyBytes() ([]byte, error) {
	return d.read(PolicyFile)
}
