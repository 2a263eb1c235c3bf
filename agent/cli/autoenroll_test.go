package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/agent/client"
	"github.com/postern-dev/postern/agent/state"
)

const testSecret = "pt1.c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXh4eHg.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

// fakeEnroller answers each attempt with the next error; nil enrolls by
// writing an identity, as Enroll does.
type fakeEnroller struct {
	dir     string
	answers []error
	calls   int
}

func (f *fakeEnroller) enroll(_ context.Context, p state.PendingEnrollment) error {
	if p.Secret != testSecret {
		return fmt.Errorf("secret %q", p.Secret)
	}
	err := f.answers[min(f.calls, len(f.answers)-1)]
	f.calls++
	if err != nil {
		return err
	}
	d, _ := state.Open(f.dir)
	return os.WriteFile(d.File(state.IdentityFile), []byte(`{"device_id":"d1","server":"`+p.Server+`"}`), 0o600)
}

func TestServiceEnrollsWithBackoff(t *testing.T) {
	unreachable := errors.New("enroll: connect to gw:4433: timeout: no recent network activity")
	refused := fmt.Errorf("enroll: %w", &client.ServerError{Code: client.CodeTokenUsed, Message: "enrollment token already used"})
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	setup := func(t *testing.T, answers ...error) (*enrollWaiter, *state.Dir, *fakeEnroller, *time.Time, *bytes.Buffer) {
		dir := t.TempDir()
		d, err := state.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.SetPendingEnrollment(state.PendingEnrollment{Server: "gw:4433", Secret: testSecret, SavedAt: start}); err != nil {
			t.Fatal(err)
		}
		fe := &fakeEnroller{dir: dir, answers: answers}
		now := start
		var logs bytes.Buffer
		w := &enrollWaiter{stateDir: dir, log: slog.New(slog.NewJSONHandler(&logs, nil)), poll: time.Hour,
			enroll: fe.enroll, now: func() time.Time { return now }, min: 30 * time.Second, max: time.Hour}
		return w, d, fe, &now, &logs
	}
	t.Run("an unreachable server is retried with doubling waits up to the maximum", func(t *testing.T) {
		w, d, fe, now, _ := setup(t, unreachable)
		var waits []time.Duration
		for range 9 {
			p, _ := d.PendingEnrollment()
			next, done, err := w.attempt(context.Background(), d, p)
			if err != nil || done {
				t.Fatalf("done=%v err=%v", done, err)
			}
			waits = append(waits, next.Sub(*now))
			// Too early: no attempt.
			if _, _, err := w.attempt(context.Background(), d, p); err != nil {
				t.Fatal(err)
			}
			*now = next
		}
		want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute,
			16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour}
		if fmt.Sprint(waits) != fmt.Sprint(want) {
			t.Errorf("waits = %v, want %v", waits, want)
		}
		if fe.calls != 9 {
			t.Errorf("%d attempts, want 9 (none before its time)", fe.calls)
		}
		st, _ := d.EnrollStatus()
		if st.Attempts != 9 || st.Refused || !strings.Contains(st.LastError, "timeout") {
			t.Errorf("status = %+v", st)
		}
	})
	t.Run("the service enrolls once the server answers and deletes the secret", func(t *testing.T) {
		w, d, _, now, _ := setup(t, unreachable, nil)
		clock := now
		w.now = func() time.Time { *clock = clock.Add(10 * time.Minute); return *clock }
		w.poll = time.Millisecond
		if err := w.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		if p, _ := d.PendingEnrollment(); p != nil {
			t.Error("the pending enrollment (with its secret) is still on disk")
		}
		st, _ := d.EnrollStatus()
		if st.Attempts != 2 || st.LastError != "" {
			t.Errorf("status = %+v", st)
		}
	})
	t.Run("a refused secret is reported, retried hourly, and never logged", func(t *testing.T) {
		w, d, _, now, logs := setup(t, refused)
		p, _ := d.PendingEnrollment()
		next, _, err := w.attempt(context.Background(), d, p)
		if err != nil {
			t.Fatal(err)
		}
		if next.Sub(*now) != time.Hour {
			t.Errorf("next attempt in %v, want 1h", next.Sub(*now))
		}
		st, _ := d.EnrollStatus()
		if !st.Refused || !strings.Contains(st.LastError, "token_used") {
			t.Errorf("status = %+v", st)
		}
		b, _ := os.ReadFile(d.File(state.EnrollStatusFile))
		for name, text := range map[string]string{"log": logs.String(), "status file": string(b)} {
			if strings.Contains(text, "c2VjcmV0") {
				t.Errorf("the secret is in the %s: %s", name, text)
			}
		}
		if !strings.Contains(logs.String(), "token_used") {
			t.Errorf("the log does not say why: %s", logs)
		}
	})
	t.Run("a newly installed secret is tried at once", func(t *testing.T) {
		w, d, fe, now, _ := setup(t, refused, nil)
		p, _ := d.PendingEnrollment()
		if _, _, err := w.attempt(context.Background(), d, p); err != nil {
			t.Fatal(err)
		}
		*now = now.Add(time.Minute)
		if err := d.SetPendingEnrollment(state.PendingEnrollment{Server: "gw:4433", Secret: testSecret, SavedAt: *now}); err != nil {
			t.Fatal(err)
		}
		p, _ = d.PendingEnrollment()
		if _, done, err := w.attempt(context.Background(), d, p); err != nil || !done {
			t.Fatalf("done=%v err=%v", done, err)
		}
		if fe.calls != 2 {
			t.Errorf("%d attempts, want 2", fe.calls)
		}
	})
}

func TestStatusShowsTheServicesEnrollment(t *testing.T) {
	dir := t.TempDir()
	d, _ := state.Open(dir)
	saved := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	if err := d.SetPendingEnrollment(state.PendingEnrollment{Server: "gw:4433", Secret: testSecret, SavedAt: saved}); err != nil {
		t.Fatal(err)
	}
	if err := d.SaveEnrollStatus(state.EnrollStatus{Server: "gw:4433", Attempts: 3, LastAttempt: saved.Add(time.Hour),
		LastError: "enroll: server refused: token_used: enrollment token already used", Refused: true,
		NextAttempt: saved.Add(2 * time.Hour), PendingSavedAt: saved}); err != nil {
		t.Fatal(err)
	}
	f, out, errOut := testFactory()
	// Not enrolled yet: status tells why and exits 1, as for any device
	// that cannot open a session.
	if code := Main(context.Background(), f, []string{"status", "--state", dir}); code != ExitNotCompliant {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out.String(), "REFUSED by gw:4433 after 3 attempt(s)") || strings.Contains(out.String(), "c2VjcmV0") {
		t.Errorf("status:\n%s", out)
	}
	out.Reset()
	if code := Main(context.Background(), f, []string{"status", "--json", "--state", dir}); code != ExitNotCompliant {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out.String(), `"refused": true`) || strings.Contains(out.String(), "c2VjcmV0") {
		t.Errorf("status --json:\n%s", out)
	}
}
