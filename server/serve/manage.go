package serve

import (
	"context"

	"github.com/postern-dev/postern/server/api"
	"github.com/postern-dev/postern/server/exceptions"
	"github.com/postern-dev/postern/server/store"
)

// manageConfig is the management API's part of the server: the same
// engine, audit log, exceptions service and revocation path as the
// dashboard, so a change made through the API applies and is announced
// as one made there.
func (s *server) manageConfig() *api.ManageConfig {
	return &api.ManageConfig{Decisions: s.lc.engine, Audit: s.lc.audit,
		Exceptions: appliedGrants{svc: s.lc.exceptions, changed: s.lc.exceptionsChanged},
		Revoker:    notifyRevoke(s.st, s.revocations.revoked), Rechecker: s.ing, CAPin: s.pin}
}

// appliedGrants tells the lifecycle after each change, so that it
// applies at once rather than at the next index refresh.
type appliedGrants struct {
	svc     *exceptions.Service
	changed func(context.Context)
}

func (a appliedGrants) Grant(ctx context.Context, g exceptions.Grant) (store.Exception, error) {
	e, err := a.svc.Grant(ctx, g)
	if err == nil {
		a.changed(ctx)
	}
	return e, err
}

func (a appliedGrants) End(ctx context.Context, id, by, reason string) error {
	err := a.svc.End(ctx, id, by, reason)
	if err == nil {
		a.changed(ctx)
	}
	return err
}
