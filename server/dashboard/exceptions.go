package dashboard

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

const (
	// maxExceptionDays bounds an exception granted from the dashboard.
	maxExceptionDays = 90
	maxReasonLen     = 500
	// expiringSoon is when an active exception is flagged as ending.
	expiringSoon = 7 * 24 * time.Hour
)

// validationError is a grant the user must correct.
type validationError struct{ msg string }

func (e validationError) Error() string { return e.msg }

// storeExceptions is the default Exceptions: validation, the store and an
// audit entry per change.
type storeExceptions struct {
	st    store.Store
	audit Auditor
	now   func() time.Time
}

func (x *storeExceptions) Grant(ctx context.Context, e store.Exception) (store.Exception, error) {
	switch {
	case !checks.ControlID(e.Control).Valid():
		return e, validationError{"choose a control"}
	case e.Reason == "" || utf8.RuneCountInString(e.Reason) > maxReasonLen || !utf8.ValidString(e.Reason):
		return e, validationError{"give a reason of at most 500 characters"}
	case !e.ExpiresAt.After(e.StartsAt):
		return e, validationError{"the exception must end after it starts"}
	}
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return e, err
	}
	e.ID, e.CreatedAt = "ex_"+hex.EncodeToString(b), x.now()
	if err := x.st.CreateException(ctx, e); err != nil {
		return e, err
	}
	x.audit.Record(ctx, audit.Entry{Actor: "user:" + e.Approver, Kind: audit.KindExceptionGranted, DeviceID: deviceOf(e),
		Details: map[string]any{"exception_id": e.ID, "scope": e.Scope, "subject": e.Subject, "control": e.Control,
			"reason": e.Reason, "expires_at": e.ExpiresAt.UTC().Format(time.RFC3339), "via": "dashboard"}})
	return e, nil
}

func (x *storeExceptions) End(ctx context.Context, id, by string) error {
	e, err := x.st.Exception(ctx, id)
	if err != nil {
		return err
	}
	if err := x.st.EndException(ctx, id, x.now(), by); err != nil {
		return err
	}
	x.audit.Record(ctx, audit.Entry{Actor: "user:" + by, Kind: audit.KindExceptionEnded, DeviceID: deviceOf(e),
		Details: map[string]any{"exception_id": id, "control": e.Control, "via": "dashboard"}})
	return nil
}

func (x *storeExceptions) List(ctx context.Context, since time.Time) ([]store.Exception, error) {
	return x.st.Exceptions(ctx, since)
}

func deviceOf(e store.Exception) string {
	if e.Scope == store.ScopeDevice {
		return e.Subject
	}
	return ""
}

type exceptionRow struct {
	store.Exception
	State string
}

type exceptionsView struct {
	Active, Expiring, Past []exceptionRow
	Notice                 string
}

func (d *Dashboard) exceptions(w http.ResponseWriter, r *http.Request, s *signedIn) {
	now := d.now()
	all, err := d.cfg.Exceptions.List(r.Context(), now.AddDate(0, 0, -90))
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	v := exceptionsView{Notice: noticeText[r.URL.Query().Get("done")]}
	for _, e := range all {
		switch {
		case !e.EndedAt.IsZero() && !e.EndedAt.After(now):
			v.Past = append(v.Past, exceptionRow{e, "ended"})
		case !e.ExpiresAt.After(now):
			v.Past = append(v.Past, exceptionRow{e, "expired"})
		case e.StartsAt.After(now):
			v.Active = append(v.Active, exceptionRow{e, "scheduled"})
		case e.ExpiresAt.Sub(now) <= expiringSoon:
			v.Expiring = append(v.Expiring, exceptionRow{e, "expiring"})
		default:
			v.Active = append(v.Active, exceptionRow{e, "active"})
		}
	}
	d.render(w, r, s, http.StatusOK, "exceptions", "Exceptions", v)
}

func (d *Dashboard) endException(w http.ResponseWriter, r *http.Request, s *signedIn) {
	id := r.PathValue("id")
	err := d.cfg.Exceptions.End(r.Context(), id, s.User.Username)
	if errors.Is(err, store.ErrNotFound) {
		d.fail(w, r, s, http.StatusNotFound, "There is no such active exception.")
		return
	}
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	back := r.PostForm.Get("back")
	if !strings.HasPrefix(back, "/ui/") || strings.HasPrefix(back, "//") || strings.ContainsAny(back, "\\?#") {
		back = "/ui/exceptions"
	}
	http.Redirect(w, r, back+"?done=ended", http.StatusSeeOther)
}

func pathEscape(s string) string { return url.PathEscape(s) }
