package users

import (
	"context"
	"errors"
	"time"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

// ErrLastAdmin refuses to disable, delete or demote the last enabled
// administrator (store.ErrLastAdmin).
var ErrLastAdmin = store.ErrLastAdmin

// ErrSelf refuses an administrator's disabling or deleting their own
// account: another administrator must.
var ErrSelf = errors.New("you cannot disable or delete your own account; ask another administrator")

// ReviewEvery is how often an account must be reviewed: Policy 550.04
// B.2 gives an account a one-year life, renewed yearly.
const ReviewEvery = 365 * 24 * time.Hour

// ReviewDueWithin is how long before its review date an account is
// listed as due.
const ReviewDueWithin = 30 * 24 * time.Hour

// Review states of an account (ReviewState).
const (
	ReviewCurrent = "current"
	ReviewDue     = "due"
	ReviewOverdue = "overdue"
)

// ReviewBy is when u's next review falls: a year after its last review,
// or after its creation when never reviewed.
func ReviewBy(u store.User) time.Time {
	from := u.CreatedAt
	if u.ReviewedAt.After(from) {
		from = u.ReviewedAt
	}
	return from.Add(ReviewEvery)
}

// ReviewState says whether u's review is current, due within
// ReviewDueWithin, or overdue at now.
func ReviewState(u store.User, now time.Time) string {
	by := ReviewBy(u)
	switch {
	case !now.Before(by):
		return ReviewOverdue
	case !now.Before(by.Add(-ReviewDueWithin)):
		return ReviewDue
	}
	return ReviewCurrent
}

// actorName is the account name of an actor written "user:NAME", or "".
func actorName(by string) string {
	if len(by) > 5 && by[:5] == "user:" {
		return by[5:]
	}
	return ""
}

// Disable disables the account at once (its sessions end) and audits it
// under by. Disabling a disabled account changes nothing. ErrSelf,
// ErrLastAdmin, store.ErrNotFound.
func (s *Service) Disable(ctx context.Context, by, username string) error {
	if actorName(by) == username {
		return ErrSelf
	}
	changed, err := s.st.DisableUser(ctx, username, store.Disable{At: s.now(), Reason: store.DisabledByAdmin, By: by, KeepAdmin: true})
	if err != nil || !changed {
		return err
	}
	s.log.Info("user disabled", "user", username, "by", by)
	return s.record(ctx, by, audit.KindUserDisabled, map[string]any{"user": username, "reason": store.DisabledByAdmin})
}

// Enable makes a disabled account active again (its locks cleared) and
// audits it under by. The enabling counts as activity, so an account
// deactivated after 90 days unused has 90 days to sign in again.
// store.ErrNotFound.
func (s *Service) Enable(ctx context.Context, by, username string) error {
	u, err := s.st.User(ctx, username)
	if err != nil {
		return err
	}
	changed, err := s.st.EnableUser(ctx, username, s.now())
	if err != nil || !changed {
		return err
	}
	s.log.Info("user enabled", "user", username, "by", by)
	return s.record(ctx, by, audit.KindUserEnabled, map[string]any{"user": username, "was": u.DisabledReason})
}

// Delete removes the account with its sessions and password history,
// and audits it under by. Its past audit rows stay. ErrSelf,
// ErrLastAdmin, store.ErrNotFound.
func (s *Service) Delete(ctx context.Context, by, username string) error {
	if actorName(by) == username {
		return ErrSelf
	}
	u, err := s.st.User(ctx, username)
	if err != nil {
		return err
	}
	if err := s.st.DeleteUser(ctx, username); err != nil {
		return err
	}
	s.log.Info("user deleted", "user", username, "by", by)
	return s.record(ctx, by, audit.KindUserDeleted, map[string]any{"user": username, "role": u.Role,
		"name": u.FirstName + " " + u.LastName})
}

// Review records that by reviewed the account (Policy 550.04: the
// account is still justified, its role the least it needs) and audits
// it; the next review falls a year later. An administrator cannot review
// their own account. store.ErrNotFound.
func (s *Service) Review(ctx context.Context, by, username, note string) error {
	if actorName(by) == username {
		return errors.New("you cannot review your own account; ask another administrator")
	}
	u, err := s.st.User(ctx, username)
	if err != nil {
		return err
	}
	now := s.now()
	if err := s.st.RecordReview(ctx, username, by, now); err != nil {
		return err
	}
	s.log.Info("user reviewed", "user", username, "by", by)
	d := map[string]any{"user": username, "role": u.Role, "next_review": now.Add(ReviewEvery).UTC().Format(time.DateOnly)}
	if note != "" {
		d["note"] = note
	}
	return s.record(ctx, by, audit.KindUserReviewed, d)
}

// SweepInactive disables every active account unused for more than
// InactiveAfter (Policy 550.04 A.5), each audited under
// "system:inactivity", and returns how many it disabled. Administrators
// are not spared: `postern-server user enable` on the server recovers.
// Several replicas may sweep at once; each account is disabled and
// audited once.
func (s *Service) SweepInactive(ctx context.Context) (int, error) {
	list, err := s.st.Users(ctx)
	if err != nil {
		return 0, err
	}
	now := s.now()
	n := 0
	var errs []error
	// Addresses unused for as long stop being known to their accounts.
	if _, err := s.st.ForgetUserSources(ctx, now.Add(-InactiveAfter)); err != nil {
		errs = append(errs, err)
	}
	for _, u := range list {
		if u.Disabled() || !Inactive(u, now) {
			continue
		}
		ok, err := s.deactivate(ctx, u, now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// deactivate disables u, found inactive at now, unless it was active in
// the meantime; it reports whether it did.
func (s *Service) deactivate(ctx context.Context, u store.User, now time.Time) (bool, error) {
	last := LastActive(u)
	changed, err := s.st.DisableUser(ctx, u.Username, store.Disable{At: now, Reason: store.DisabledInactive,
		By: actorInactivity, IdleSince: now.Add(-InactiveAfter)})
	if err != nil || !changed {
		return false, err
	}
	s.log.Warn("user disabled: inactive", "user", u.Username, "last_active", last)
	return true, s.record(ctx, actorInactivity, audit.KindUserDisabled, map[string]any{"user": u.Username,
		"reason": store.DisabledInactive, "last_active": last.UTC().Format(time.RFC3339),
		"inactive_after_days": int(InactiveAfter / (24 * time.Hour))})
}

// Actors of the account changes the server makes by itself.
const (
	actorInactivity = "system:inactivity"
	actorLockout    = "system:lockout"
)

// AddressLocks returns, per account, the addresses it signed in from
// that are locked now (LockAfter failures from there within LockFor).
func (s *Service) AddressLocks(ctx context.Context) (map[string][]string, error) {
	list, err := s.st.LockedSources(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := map[string][]string{}
	for _, src := range list {
		if now.Before(src.LockedAt.Add(s.lockFor)) {
			out[src.Username] = append(out[src.Username], src.Source)
		}
	}
	return out, nil
}
