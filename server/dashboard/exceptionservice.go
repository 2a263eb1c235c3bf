package dashboard

import (
	"context"
	"errors"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/server/exceptions"
	"github.com/postern-dev/postern/server/store"
)

// ExceptionService adapts server/exceptions to the dashboard, so that its
// validation and audit trail apply to exceptions granted here. Listing
// reads st directly, since the dashboard also shows recently expired ones.
func ExceptionService(svc *exceptions.Service, st store.Store) Exceptions {
	return &serviceExceptions{svc: svc, st: st}
}

type serviceExceptions struct {
	svc *exceptions.Service
	st  store.Store
}

func (x *serviceExceptions) Grant(ctx context.Context, e store.Exception) (store.Exception, error) {
	if e.Reason == "" {
		return e, validationError{"give a reason"}
	}
	out, err := x.svc.Grant(ctx, exceptions.Grant{Scope: e.Scope, Subject: e.Subject, Control: checks.ControlID(e.Control),
		Reason: e.Reason, Approver: "user:" + e.Approver, StartsAt: e.StartsAt, ExpiresAt: e.ExpiresAt})
	if errors.Is(err, exceptions.ErrInvalid) {
		return e, validationError{err.Error()}
	}
	return out, err
}

func (x *serviceExceptions) End(ctx context.Context, id, by string) error {
	if _, err := x.st.Exception(ctx, id); err != nil {
		return err
	}
	return x.svc.End(ctx, id, "user:"+by, "ended from the dashboard")
}

func (x *serviceExceptions) List(ctx context.Context, since time.Time) ([]store.Exception, error) {
	return x.st.Exceptions(ctx, since)
}
