package decision

import (
	"context"
	"time"

	"github.com/postern-dev/postern/server/exceptions"
	"github.com/postern-dev/postern/server/policy"
	"github.com/postern-dev/postern/server/store"
)

// fixedPolicies is a policy set that does not reload.
type fixedPolicies struct{ s *policy.Set }

func (f fixedPolicies) Current() *policy.Set { return f.s }

// ForStore returns an engine that decides from st alone: the policy the
// serving server last applied, the stored exceptions and attestations, and
// the clock now. The command line uses it, so that it shows the same
// decisions as the server without running one. It announces nothing.
func ForStore(ctx context.Context, st store.Store, now func() time.Time) (*Engine, error) {
	set, err := policy.Applied(ctx, st)
	if err != nil {
		return nil, err
	}
	ix := exceptions.NewIndex(st, now, nil)
	if err := ix.Refresh(ctx); err != nil {
		return nil, err
	}
	return NewEngine(EngineConfig{Store: st, Policies: fixedPolicies{set}, Index: ix, Now: now}), nil
}
