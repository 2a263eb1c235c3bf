package attest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/postern-dev/postern/agent/state"
	pb "github.com/postern-dev/postern/proto"
)

// Version names the statement text below. Change it, and the text, together:
// the server records the version and the SHA-256 of the exact words shown.
const Version = "2026-1"

// Statement is the text the user accepts. It covers what a machine cannot
// show: C.7.a.vi physical protection and not sharing the device, vii screen
// privacy, x secure messaging per DMH Policy 557.02, xi no printing of PHI.
const Statement = `Remote access to IBHIS: yearly user statement (Policy 550.04, C.7.a)

By accepting, I confirm that whenever I use this device to reach IBHIS:

 1. (vi) I keep the device physically protected: it is never left unattended
    while unlocked, it is stored securely when not in use, and I do not share
    it, or my sign-in, with anyone, including family members.
 2. (vii) I position the screen, or use a privacy filter, so that no one else
    can read client information, and I lock the screen whenever I step away.
 3. (x) I send confidential client information only through secure messaging,
    as DMH Policy 557.02 requires, never by personal e-mail, text or chat.
 4. (xi) I do not print protected health information (PHI) from this device
    unless my supervisor has approved it in writing.

I understand that access may be denied or revoked if these rules are not
followed, and that I will be asked to renew this statement every year.
`

// MaxAge is how long an attestation counts before it must be renewed.
const MaxAge = 365 * 24 * time.Hour

// WarnBefore is how long before the due date `status` starts warning.
const WarnBefore = 14 * 24 * time.Hour

// MaxUserLen bounds the user name, in bytes, as the server does.
const MaxUserLen = 256

// ErrBadUser: the user name is empty, too long, not UTF-8 or holds control
// characters.
var ErrBadUser = errors.New("user name must be 1 to 256 bytes of printable UTF-8 text")

// SHA256 returns the SHA-256 of Statement, the exact bytes shown.
func SHA256() [32]byte { return sha256.Sum256([]byte(Statement)) }

// CheckUser validates a user name as the server will.
func CheckUser(user string) error {
	if user == "" || len(user) > MaxUserLen || !utf8.ValidString(user) || strings.TrimSpace(user) != user {
		return ErrBadUser
	}
	for _, r := range user {
		if !unicode.IsPrint(r) {
			return ErrBadUser
		}
	}
	return nil
}

// New returns the wire attestation of user accepting the current statement
// at t.
func New(user string, t time.Time) (*pb.Attestation, error) {
	if err := CheckUser(user); err != nil {
		return nil, fmt.Errorf("attest: %w", err)
	}
	sum := SHA256()
	return &pb.Attestation{User: user, StatementVersion: Version, StatementSha256: sum[:], AcceptedAtUnix: t.Unix()}, nil
}

// Due returns when an attestation recorded at t must be renewed.
func Due(recorded time.Time) time.Time { return recorded.Add(MaxAge) }

// DueSoon reports whether an attestation recorded at t is within
// WarnBefore of its due date (or past it) at now.
func DueSoon(recorded, now time.Time) bool { return !now.Before(Due(recorded).Add(-WarnBefore)) }

// ToInfo converts a wire attestation for the state directory.
func ToInfo(a *pb.Attestation) state.AttestationInfo {
	return state.AttestationInfo{User: a.GetUser(), StatementVersion: a.GetStatementVersion(),
		StatementSHA256: a.GetStatementSha256(), AcceptedAt: time.Unix(a.GetAcceptedAtUnix(), 0).UTC()}
}

// ToWire converts a stored attestation for the server.
func ToWire(a state.AttestationInfo) *pb.Attestation {
	return &pb.Attestation{User: a.User, StatementVersion: a.StatementVersion,
		StatementSha256: a.StatementSHA256, AcceptedAtUnix: a.AcceptedAt.Unix()}
}
