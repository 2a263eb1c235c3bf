package runner

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/postern-dev/postern/agent/client"
	"github.com/postern-dev/postern/agent/state"
)

// perServerTimeout bounds one replica's connection attempt, so that a
// dead replica (QUIC gets no answer at all) costs one handshake timeout
// before the next is tried.
const perServerTimeout = 15 * time.Second

// failover connects to the server's replicas in turn: the one that last
// answered first, then the others in the order the identity lists them.
// A round in which none answers is an error; the runner's backoff then
// spaces the rounds.
type failover struct {
	r *Runner

	mu      sync.Mutex
	current string
}

func (f *failover) order(list []string) []string {
	f.mu.Lock()
	cur := f.current
	f.mu.Unlock()
	out := make([]string, 0, len(list))
	for _, s := range list {
		if s == cur {
			out = append(out, s)
		}
	}
	for _, s := range list {
		if s != cur {
			out = append(out, s)
		}
	}
	return out
}

func (f *failover) dial(ctx context.Context, list []string, dial func(context.Context, string) (*client.Session, error)) (Conn, error) {
	var errs []error
	order := f.order(list)
	for i, addr := range order {
		actx, cancel := context.WithTimeout(ctx, perServerTimeout)
		s, err := dial(actx, addr)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			var se *client.ServerError
			if errors.As(err, &se) && se.Permanent() {
				// Every replica would say the same (revoked, unknown).
				return nil, err
			}
			errs = append(errs, err)
			if i+1 < len(order) {
				f.r.log.Warn("server unreachable, trying the next replica", "server", addr, "next", order[i+1], "error", err.Error())
			}
			continue
		}
		f.connected(order[0], addr, errs, s)
		return s, nil
	}
	return nil, fmt.Errorf("no server replica answered (%d tried): %w", len(order), errors.Join(errs...))
}

// connected records where the session went, and the replica list the
// server sent in its Hello.
func (f *failover) connected(first, addr string, errs []error, s *client.Session) {
	f.mu.Lock()
	f.current = addr
	f.mu.Unlock()
	now := f.r.cfg.Clock()
	_, err := f.r.dir.UpdateState(func(st *state.State) {
		st.ConnectedServer = addr
		if addr != first {
			st.LastFailover = &state.FailoverInfo{From: first, To: addr, At: now, Error: errors.Join(errs...).Error()}
		}
	})
	if err != nil {
		f.r.log.Error("state update failed", "error", err.Error())
	}
	if addr != first {
		f.r.log.Warn("failed over to another server replica", "from", first, "to", addr)
	}
	servers, verr := state.ValidServers(s.Servers())
	if verr != nil {
		f.r.log.Warn("server sent a malformed replica list", "error", verr.Error())
	}
	if len(servers) > 0 {
		if err := f.r.dir.SaveServers(servers); err != nil {
			f.r.log.Error("save replica list failed", "error", err.Error())
		}
	}
	if url, ok := s.GatewayURL(); ok {
		changed, err := f.r.dir.SaveGatewayURL(url)
		switch {
		case err != nil:
			f.r.log.Warn("gateway URL from the server not saved", "error", err.Error())
		case changed:
			f.r.log.Info("the server's gateway URL changed", "gateway_url", url)
			if f.r.cfg.OnGatewayURL != nil {
				f.r.cfg.OnGatewayURL(context.Background())
			}
		}
	}
}
