package runner

import (
	"errors"
	"fmt"
	"time"

	"github.com/postern-dev/postern/agent/client"
	"github.com/postern-dev/postern/agent/state"
	pb "github.com/postern-dev/postern/proto"
)

// inactiveAfter is the server's decision.InactiveAfter: a device silent
// this long is refused and must enroll again. The agent cannot import
// server code; docs/protocol.md fixes the figure.
const inactiveAfter = 90 * 24 * time.Hour

// RefusedError is returned when the server refused this device's
// identity for good; its message says why in plain words and what to do.
type RefusedError struct{ Refusal state.Refusal }

func (e *RefusedError) Error() string { return e.Refusal.Message }

// reenroll is the fix every refusal shares.
const reenroll = "To use this device for IBHIS again, enroll it with a new token from the security team: postern-agent enroll --server HOST:PORT --token TOKEN"

// refusal says whether err is the server refusing this identity for good,
// and why, in plain words. An explicit error from the server says why;
// a handshake refusal does not, so the agent tells from what it knows: an
// expired certificate, or no ack for longer than the server keeps an
// inactive device, else a revocation.
func (r *Runner) refusal(err error) (state.Refusal, bool) {
	var reason string
	var se *client.ServerError
	switch {
	case errors.As(err, &se) && se.Code == client.CodeDeviceRevoked:
		reason = state.RefusedRevoked
	case errors.As(err, &se) && se.Code == client.CodeDeviceInactive:
		reason = state.RefusedInactive
	case errors.As(err, &se) && se.Code == client.CodeDeviceUnknown:
		reason = state.RefusedUnknown
	case errors.As(err, &se) && se.Code == client.CodeAgentSecretInvalid:
		reason = state.RefusedAgentSecret
	case errors.Is(err, client.ErrCertificateRefused):
		reason = r.guessRefusal()
	default:
		return state.Refusal{}, false
	}
	now := r.cfg.Clock().UTC()
	f := state.Refusal{Reason: reason, Time: now}
	if id, err := r.dir.LoadIdentity(); err == nil {
		f.CertSHA256 = id.CertSHA256
	}
	switch reason {
	case state.RefusedRevoked:
		f.Message = "The security team revoked this device's enrollment: IBHIS access is blocked and the agent has stopped reporting. " + reenroll + "."
	case state.RefusedInactive:
		f.Message = "This device sent no report for more than 90 days, so the server retired its enrollment: IBHIS access is blocked and the agent has stopped reporting. " + reenroll + "."
	case state.RefusedAgentSecret:
		f.Message = "The server refused this agent's proof of its agent secret (the file " + state.AgentSecretFile + " in the agent's state directory is missing or not the one issued at enrollment): IBHIS access is blocked and the agent has stopped reporting. " + reenroll + "."
	case state.RefusedExpired:
		f.Message = "This device's certificate has expired, so the server no longer accepts it: IBHIS access is blocked and the agent has stopped reporting. " + reenroll + "."
	default:
		f.Message = "The server no longer knows this device (its enrollment was removed): IBHIS access is blocked and the agent has stopped reporting. " + reenroll + "."
	}
	return f, true
}

// guessRefusal explains a handshake refusal from the agent's own state.
func (r *Runner) guessRefusal() string {
	now := r.cfg.Clock()
	if creds, err := r.dir.LoadCredentials(); err == nil && creds.Certificate.Leaf != nil && now.After(creds.Certificate.Leaf.NotAfter) {
		return state.RefusedExpired
	}
	st, err := r.dir.LoadState()
	if err != nil {
		return state.RefusedRevoked
	}
	last := time.Time{}
	if st.LastAck != nil {
		last = st.LastAck.Time
	} else if id, err := r.dir.LoadIdentity(); err == nil {
		last = id.EnrolledAt
	}
	if !last.IsZero() && now.Sub(last) > inactiveAfter {
		return state.RefusedInactive
	}
	return state.RefusedRevoked
}

// refused returns the refusal of the current identity, if there is one.
func (r *Runner) refused() (*state.Refusal, error) {
	st, err := r.dir.LoadState()
	if err != nil {
		return nil, err
	}
	if st.Refused == nil {
		return nil, nil
	}
	id, err := r.dir.LoadIdentity()
	if errors.Is(err, state.ErrNotEnrolled) {
		return st.Refused, nil // no other identity to report with
	}
	if err != nil {
		return nil, err
	}
	if !st.Refused.Applies(id.CertSHA256) {
		return nil, nil // enrolled again since
	}
	return st.Refused, nil
}

// recordRefusal stores f, so that the daemon stops reporting and
// `status` says why.
func (r *Runner) recordRefusal(f state.Refusal) error {
	_, err := r.dir.UpdateState(func(s *state.State) {
		s.Refused = &f
		s.LastError = &state.ErrorInfo{Time: f.Time, Message: f.Message}
	})
	if r.cfg.OnRefused != nil {
		r.cfg.OnRefused()
	}
	if err != nil {
		return fmt.Errorf("record refusal: %w", err)
	}
	return nil
}

// decisionFromWire is the server's decision carried by an ack; nil when
// the server sent none.
func decisionFromWire(w *pb.AccessDecision) *state.Decision {
	if w == nil {
		return nil
	}
	d := &state.Decision{Allow: w.GetAllow(), Access: w.GetAccess(), EvaluatedAt: unix(w.GetEvaluatedAtUnix()),
		Deadline: unix(w.GetDeadlineUnix()), Reasons: reasonsFromWire(w.GetReasons()), Warnings: reasonsFromWire(w.GetWarnings())}
	if d.Reasons == nil {
		d.Reasons = []state.DecisionReason{}
	}
	return d
}

func reasonsFromWire(ws []*pb.DecisionReason) []state.DecisionReason {
	var out []state.DecisionReason
	for _, w := range ws {
		out = append(out, state.DecisionReason{Code: w.GetCode(), Control: w.GetControl(), Message: w.GetMessage(),
			Remediation: w.GetRemediation(), Until: unix(w.GetUntilUnix())})
	}
	return out
}

func unix(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}
