package ingest

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	pb "github.com/postern-dev/postern/proto"
)

// Bounds on an Attestation from an agent (docs/protocol.md).
const (
	maxAttestUserLen = 256
	// attestSkew is how far in the future accepted_at may lie (agent
	// clocks drift).
	attestSkew = 5 * time.Minute
	// maxAttestAge is how old accepted_at may be: an attestation held
	// while the agent was offline still counts, a stale or replayed one
	// does not.
	maxAttestAge = 30 * 24 * time.Hour
)

// attestVersion is the shape of a statement version. Any version is
// accepted: the text lives in the agent, and the server records the
// version and its hash so that an auditor can tell which words were shown.
var attestVersion = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$`)

// checkAttestation validates an attestation; its error message is sent to
// the agent.
func checkAttestation(a *pb.Attestation, now time.Time) error {
	u := a.GetUser()
	switch {
	case u == "" || len(u) > maxAttestUserLen || !utf8.ValidString(u) || strings.TrimSpace(u) != u || strings.IndexFunc(u, notPrint) >= 0:
		return errors.New("user must be 1 to 256 bytes of printable UTF-8 without surrounding spaces")
	case !attestVersion.MatchString(a.GetStatementVersion()):
		return errors.New("statement_version must be 1 to 32 letters, digits, '.', '_' or '-'")
	case len(a.GetStatementSha256()) != 32:
		return errors.New("statement_sha256 must be 32 bytes")
	}
	at := time.Unix(a.GetAcceptedAtUnix(), 0)
	switch {
	case a.GetAcceptedAtUnix() <= 0:
		return errors.New("accepted_at_unix is required")
	case at.After(now.Add(attestSkew)):
		return errors.New("accepted_at_unix is in the future; check the device clock")
	case now.Sub(at) > maxAttestAge:
		return errors.New("accepted_at_unix is more than 30 days old; attest again")
	}
	return nil
}

func notPrint(r rune) bool { return !unicode.IsPrint(r) }

// attest validates and records an attestation on the control stream and
// echoes it back once recorded.
func (s *Server) attest(st *stream, deviceID string, a *pb.Attestation) *pb.Envelope {
	if err := checkAttestation(a, s.now()); err != nil {
		return errorEnvelope(CodeBadAttestation, err.Error(), 0)
	}
	if err := s.recordAttestation(deviceID, a); err != nil {
		st.log.Error("record attestation failed", "err", err)
		return errorEnvelope(CodeInternal, "the server could not record the attestation; retry later", 0)
	}
	st.log.Info("attestation recorded", "statement_version", a.GetStatementVersion())
	return &pb.Envelope{Msg: &pb.Envelope_Attestation{Attestation: a}}
}

// recordAttestation hands a validated attestation to Config.OnAttestation.
// Without a hook the server cannot record it, which is an error rather
// than a silent success.
func (s *Server) recordAttestation(deviceID string, a *pb.Attestation) error {
	if s.cfg.OnAttestation == nil {
		return errors.New("no attestation recorder configured")
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	return s.cfg.OnAttestation(ctx, deviceID, a)
}
