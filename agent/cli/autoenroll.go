package cli

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/postern-dev/postern/agent/client"
	"github.com/postern-dev/postern/agent/state"
	"github.com/postern-dev/postern/internal/clock"
	pb "github.com/postern-dev/postern/proto"
)

// Backoff of the service's enrollment attempts: the first retry after
// enrollRetryMin, doubling up to enrollRetryMax. A laptop installed
// offline enrolls within enrollRetryMax of coming online.
const (
	enrollRetryMin = 30 * time.Second
	enrollRetryMax = time.Hour
)

// enrollWaiter waits, in the service, until the device is enrolled: by
// someone running `enroll`, or by the service itself carrying out the
// enrollment an installer left (state.PendingEnrollment), retrying with
// backoff. Installing thus never depends on the server answering, and a
// refused secret is reported by the service (its log and `status`).
type enrollWaiter struct {
	stateDir string
	log      *slog.Logger
	// poll is how often the state directory is looked at.
	poll time.Duration
	// enroll carries out a pending enrollment; nil waits for `enroll`.
	enroll   func(ctx context.Context, p state.PendingEnrollment) error
	now      func() time.Time
	min, max time.Duration
	// provisionDir holds provisioning files (server, enroll.token) the
	// service takes over; empty for none.
	provisionDir string
}

func newEnrollWaiter(f *Factory, stateDir string, log *slog.Logger) *enrollWaiter {
	return &enrollWaiter{
		stateDir: stateDir, log: log, poll: enrollPoll, now: f.Now,
		min: enrollRetryMin, max: enrollRetryMax, provisionDir: defaultProvisionDir,
		enroll: func(ctx context.Context, p state.PendingEnrollment) error {
			_, err := Enroll(ctx, EnrollOptions{StateDir: stateDir, Server: p.Server, Token: p.Secret,
				Host: f.LiveHost(), Device: f.Device, Now: f.Now})
			return err
		},
	}
}

// backoff is the wait after the n-th failed attempt (n >= 1).
func (w *enrollWaiter) backoff(n int) time.Duration {
	d := w.min
	for i := 1; i < n && d < w.max; i++ {
		d *= 2
	}
	return min(d, w.max)
}

// wait returns once the state directory holds an identity. It returns
// ctx's error when ctx ends, and other errors (a corrupt identity) at once.
func (w *enrollWaiter) wait(ctx context.Context) error {
	if w.now == nil {
		w.now = clock.Now
	}
	logged := false
	for {
		dir, err := state.Open(w.stateDir)
		if err != nil {
			return err
		}
		_, err = dir.LoadIdentity()
		if err == nil {
			// Enrolled, by the service or by hand: the secret is no
			// longer needed on disk.
			if err := dropProvisionToken(w.provisionDir); err != nil {
				w.log.Warn("enrollment secret not deleted", "error", err.Error())
			}
			return dir.DropPendingEnrollment()
		}
		if !errors.Is(err, state.ErrNotEnrolled) {
			return err
		}
		sleep := w.poll
		if imported, err := importProvision(w.provisionDir, dir, w.now()); err != nil {
			w.log.Error("provisioning files", "dir", w.provisionDir, "error", err.Error())
		} else if imported {
			w.log.Info("enrollment taken over from provisioning files", "dir", w.provisionDir)
		}
		p, err := dir.PendingEnrollment()
		if err != nil {
			w.log.Error("pending enrollment unreadable", "error", err.Error())
		}
		if p != nil && w.enroll != nil {
			next, done, err := w.attempt(ctx, dir, p)
			if err != nil {
				return err
			}
			if done {
				continue
			}
			sleep = min(sleep, max(next.Sub(w.now()), 0))
		} else if !logged {
			w.log.Warn("waiting for enrollment", "state_dir", w.stateDir)
			logged = true
		}
		t := time.NewTimer(sleep)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// attempt enrolls with p when its backoff allows. It returns when to try
// next, or done after a successful enrollment.
func (w *enrollWaiter) attempt(ctx context.Context, dir *state.Dir, p *state.PendingEnrollment) (time.Time, bool, error) {
	st, err := dir.EnrollStatus()
	if err != nil || st == nil || !st.PendingSavedAt.Equal(p.SavedAt) {
		// A new secret (or a first attempt) starts without backoff.
		st = &state.EnrollStatus{PendingSavedAt: p.SavedAt}
	}
	now := w.now()
	if !st.NextAttempt.IsZero() && now.Before(st.NextAttempt) {
		return st.NextAttempt, false, nil
	}
	st.Server, st.Attempts, st.LastAttempt = p.Server, st.Attempts+1, now
	err = w.enroll(ctx, *p)
	if ctx.Err() != nil {
		return time.Time{}, false, ctx.Err()
	}
	if err == nil {
		st.LastError, st.Refused, st.NextAttempt = "", false, time.Time{}
		if err := dir.SaveEnrollStatus(*st); err != nil {
			w.log.Warn("enrollment status not saved", "error", err.Error())
		}
		w.log.Info("enrolled", "server", p.Server, "attempts", st.Attempts)
		return time.Time{}, true, dir.DropPendingEnrollment()
	}
	if errors.Is(err, state.ErrAlreadyEnrolled) {
		return time.Time{}, true, nil
	}
	st.LastError, st.Refused = err.Error(), secretRefused(err)
	st.NextAttempt = now.Add(w.backoff(st.Attempts))
	if st.Refused {
		// Retrying the same secret cannot help, but an administrator can
		// raise its use limit or extend it: keep trying, slowly.
		st.NextAttempt = now.Add(w.max)
	}
	if err := dir.SaveEnrollStatus(*st); err != nil {
		w.log.Warn("enrollment status not saved", "error", err.Error())
	}
	// The error names the server and the refusal, never the secret.
	w.log.Error("enrollment failed", "server", p.Server, "attempt", st.Attempts,
		"refused", st.Refused, "error", st.LastError, "next_attempt", st.NextAttempt.UTC().Format(time.RFC3339))
	return st.NextAttempt, false, nil
}

// secretRefused reports whether the server refused the secret itself.
func secretRefused(err error) bool {
	if errors.Is(err, pb.ErrMalformedToken) {
		return true
	}
	var se *client.ServerError
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code {
	case client.CodeTokenInvalid, client.CodeTokenUsed, client.CodeTokenExpired:
		return true
	}
	return false
}
