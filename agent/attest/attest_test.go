package attest

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// statementSHA256 pins the statement's hash: a change to the text must
// come with a new Version, and this test says so.
const statementSHA256 = "8c8615039bd824830d10c9e7f1f0208d85d380df8e4184ae425649ead851f469"

func TestStatementHashIsStable(t *testing.T) {
	sum := SHA256()
	if got := hex.EncodeToString(sum[:]); got != statementSHA256 || Version != "2026-1" {
		t.Fatalf("statement %s has sha256 %s; if the text changed on purpose, bump Version and update this test", Version, got)
	}
	for _, ref := range []string{"(vi)", "(vii)", "(x)", "(xi)", "557.02"} {
		if !strings.Contains(Statement, ref) {
			t.Errorf("statement lacks %s", ref)
		}
	}
}

func TestPrompt(t *testing.T) {
	tests := []struct {
		name, input, user string
		want              string
		wantErr           error
	}{
		{name: "a name and yes accept", input: "Dana Ruiz\nyes\n", want: "Dana Ruiz"},
		{name: "a given user only types yes", input: "YES\n", user: "dana", want: "dana"},
		{name: "anything but yes declines", input: "Dana\ny\n", wantErr: ErrDeclined},
		{name: "closed input declines", input: "", wantErr: ErrDeclined},
		{name: "an empty name is refused", input: "\nyes\n", wantErr: ErrBadUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := &strings.Builder{}
			got, err := Prompt(strings.NewReader(tt.input), out, tt.user)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Fatalf("Prompt = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
			if !strings.Contains(out.String(), Statement) {
				t.Error("the statement was not shown")
			}
		})
	}
}

func TestNewAndConversions(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	t.Run("a wire attestation carries the version, hash and time, and survives the state round trip", func(t *testing.T) {
		a, err := New("Dana Ruiz", at)
		if err != nil {
			t.Fatal(err)
		}
		sum := SHA256()
		if a.StatementVersion != Version || !cmp.Equal(a.StatementSha256, sum[:]) || a.AcceptedAtUnix != at.Unix() {
			t.Errorf("got %v", a)
		}
		back := ToWire(ToInfo(a))
		if back.String() != a.String() {
			t.Errorf("round trip %v, want %v", back, a)
		}
	})
	t.Run("a user with a control character is refused", func(t *testing.T) {
		if _, err := New("dana\tadmin", at); !errors.Is(err, ErrBadUser) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestDue(t *testing.T) {
	rec := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		now  time.Time
		want bool
	}{
		{"a fresh attestation is not due soon", rec.Add(24 * time.Hour), false},
		{"fifteen days before the due date is not yet a warning", rec.Add(350 * 24 * time.Hour), false},
		{"fourteen days before the due date warns", rec.Add(351 * 24 * time.Hour), true},
		{"past the due date warns", rec.Add(400 * 24 * time.Hour), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DueSoon(rec, tt.now); got != tt.want {
				t.Errorf("DueSoon = %v, want %v (due %s)", got, tt.want, Due(rec))
			}
		})
	}
}
