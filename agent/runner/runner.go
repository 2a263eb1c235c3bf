package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/postern-dev/postern/agent/client"
	"github.com/postern-dev/postern/agent/devkey"
	"github.com/postern-dev/postern/agent/spool"
	"github.com/postern-dev/postern/agent/state"
	"github.com/postern-dev/postern/checks"
	pb "github.com/postern-dev/postern/proto"
)

// Runner runs check cycles and delivers their reports.
type Runner struct {
	cfg   Config
	dir   *state.Dir
	spool *spool.Spool
	log   *slog.Logger

	mu     sync.Mutex
	policy *checks.Policy

	kick    chan struct{} // a report was spooled: deliver now
	recheck chan string   // check now, and why: the server asked, or a watcher saw a change
	// failover picks the replica to connect to (failover.go).
	failover *failover
}

// errDropped: the report left the spool by its limits before any ack.
var errDropped = errors.New("report left the spool unacknowledged")

// permanent reports local errors that retrying cannot fix.
func permanent(err error) bool {
	return errors.Is(err, errDropped) || errors.Is(err, state.ErrNotEnrolled) ||
		errors.Is(err, state.ErrKeyPermissions) || errors.Is(err, state.ErrCorrupt)
}

// Result is the outcome of one check cycle.
type Result struct {
	Sequence  uint64
	Report    *checks.Report
	Verdicts  []checks.Verdict
	Compliant bool
	// Ack is the server's ack of this report; nil until acknowledged.
	Ack *pb.Ack
}

// New opens the state directory and spool.
func New(cfg Config) (*Runner, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	dir, err := state.Open(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	if cfg.KeyStore != nil {
		dir.UseKeyStore(cfg.KeyStore)
	}
	r := &Runner{cfg: cfg, dir: dir, log: cfg.Logger, kick: make(chan struct{}, 1), recheck: make(chan string, 1)}
	r.failover = &failover{r: r}
	so := cfg.Spool
	so.Now, so.Logger, so.OnDiscard = cfg.Clock, cfg.Logger, r.countDiscard
	if r.spool, err = spool.Open(dir.File(state.SpoolDir), so); err != nil {
		return nil, err
	}
	if r.policy, err = dir.LoadPolicy(); err != nil {
		// A damaged policy file must not stop reporting: the server
		// re-evaluates anyway and will push its policy again.
		r.log.Warn("stored policy unusable, using the default", "error", err.Error())
		r.policy = checks.DefaultPolicy()
	}
	if cfg.Dial == nil {
		// Reporting needs an identity; say so now rather than retrying.
		if _, err := dir.LoadIdentity(); err != nil {
			return nil, err
		}
		r.cfg.Dial = r.dialSession
	}
	return r, nil
}

func (r *Runner) countDiscard(d spool.Discard) {
	_, err := r.dir.UpdateState(func(s *state.State) {
		if d.Reason == spool.ReasonCorrupt {
			s.QuarantinedReports++
		} else {
			s.DroppedReports++
		}
	})
	if err != nil {
		r.log.Error("state update failed", "error", err.Error())
	}
}

func (r *Runner) dialSession(ctx context.Context) (Conn, error) {
	creds, err := r.dir.LoadCredentials()
	if err != nil {
		return nil, err
	}
	return r.failover.dial(ctx, creds.Identity.ServerList(), func(ctx context.Context, addr string) (*client.Session, error) {
		return client.Dial(ctx, client.SessionConfig{
			Addr: addr, Certificate: creds.Certificate, CA: creds.CA,
			Logger: r.log, Now: r.cfg.Clock, AgentSecret: creds.AgentSecret,
		})
	})
}

func (r *Runner) currentPolicy() *checks.Policy {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.policy
}

// Cycle collects, evaluates with the current policy, and spools one
// report under a freshly reserved sequence number.
func (r *Runner) Cycle(ctx context.Context) (Result, error) {
	cctx, cancel := context.WithTimeout(ctx, r.cfg.CollectTimeout)
	defer cancel()
	start := r.cfg.Clock()
	dev := r.cfg.Device(cctx, r.cfg.Host)
	rep := checks.Collect(cctx, r.cfg.Host, dev, start)
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	p := r.currentPolicy()
	vs := checks.Evaluate(rep, p, r.cfg.Clock())
	res := Result{Report: rep, Verdicts: vs, Compliant: checks.Compliant(vs)}
	seq, err := r.dir.ReserveSequence()
	if err != nil {
		return Result{}, err
	}
	res.Sequence = seq
	refused, err := r.refused()
	if err != nil {
		return Result{}, err
	}
	if refused == nil {
		w := checks.ToWire(rep, seq)
		w.DeviceKey = string(r.keyKind())
		if err := r.spool.Add(w); err != nil {
			return Result{}, err
		}
	} else {
		// The server refused this identity: nothing is sent until the
		// device enrolls again, so nothing is kept to send.
		r.log.Warn("report not spooled: the server refused this device", "reason", refused.Reason)
	}
	_, err = r.dir.UpdateState(func(s *state.State) {
		s.LastReport = &state.ReportInfo{Sequence: seq, Time: rep.CollectedAt, Compliant: res.Compliant, Findings: state.FindingsFrom(vs, p)}
	})
	if err != nil {
		return Result{}, err
	}
	r.log.Info("check complete", "sequence", seq, "compliant", res.Compliant, "duration_ms", r.cfg.Clock().Sub(start).Milliseconds())
	if r.cfg.OnCycle != nil {
		r.cfg.OnCycle(ctx, res)
	}
	select {
	case r.kick <- struct{}{}:
	default:
	}
	return res, nil
}

// Trigger asks for a check cycle now, with a short reason for the log. It
// never blocks; triggers that arrive while one is pending are coalesced.
func (r *Runner) Trigger(reason string) {
	select {
	case r.recheck <- reason:
	default:
	}
}

// Run checks every interval and delivers reports until ctx ends; it
// returns nil on cancellation.
func (r *Runner) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { r.deliverLoop(ctx) })
	r.checkLoop(ctx)
	cancel()
	wg.Wait()
	return nil
}

func (r *Runner) checkLoop(ctx context.Context) {
	for {
		if _, err := r.Cycle(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("check failed", "error", err.Error())
			r.recordError(err)
		}
		timer := time.NewTimer(jittered(r.cfg.Interval, r.cfg.Jitter))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		case reason := <-r.recheck:
			timer.Stop()
			r.log.Info("check triggered", "reason", reason)
		}
	}
}

func (r *Runner) deliverLoop(ctx context.Context) {
	bo := newBackoff(r.cfg.BackoffMin, r.cfg.BackoffMax)
	handshakeRefusals := 0
	for ctx.Err() == nil {
		if f, err := r.refused(); err == nil && f != nil {
			// Stop reporting until the device enrolls again (a restart
			// after enrolling picks the new identity up).
			r.log.Error("the server refused this device; reporting stopped until it enrolls again", "reason", f.Reason)
			<-ctx.Done()
			return
		}
		conn, err := r.cfg.Dial(ctx)
		if err == nil {
			bo.reset()
			transport := "unknown"
			if t, ok := conn.(interface{ Transport() string }); ok {
				transport = t.Transport()
			}
			r.log.Info("connected to server", "transport", transport)
			err = r.serve(ctx, conn)
			_ = conn.Close()
		}
		if ctx.Err() != nil {
			return
		}
		if f, ok := r.refusal(err); ok {
			// An explicit refusal is final; a handshake refusal is taken
			// as one only when it repeats, since a server that cannot
			// look the device up refuses the handshake too.
			if errors.Is(err, client.ErrCertificateRefused) {
				handshakeRefusals++
			}
			if !errors.Is(err, client.ErrCertificateRefused) || handshakeRefusals >= 2 {
				if rerr := r.recordRefusal(f); rerr != nil {
					r.log.Error("state update failed", "error", rerr.Error())
				}
				continue
			}
		} else {
			handshakeRefusals = 0
		}
		wait := bo.next()
		var se *client.ServerError
		if errors.As(err, &se) && se.Permanent() {
			wait = r.cfg.BackoffMax
		}
		r.log.Warn("server connection lost", "error", err.Error(), "retry_in_ms", wait.Milliseconds())
		r.recordError(err)
		if !sleep(ctx, wait) {
			return
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// serve delivers the spool whenever a report is added and handles the
// server's commands until the session ends.
func (r *Runner) serve(ctx context.Context, conn Conn) error {
	for {
		if _, err := r.deliver(ctx, conn); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-conn.Done():
			return conn.Err()
		case <-r.kick:
		case cmd := <-conn.Commands():
			r.handle(ctx, conn, cmd)
		}
	}
}

// outcome is what one delivery pass achieved, by sequence.
type outcome struct {
	acks    map[uint64]*pb.Ack
	refused map[uint64]error
}

// deliver sends every spooled report in order and removes each once
// acked, or once the server has refused it for good.
func (r *Runner) deliver(ctx context.Context, conn Conn) (outcome, error) {
	out := outcome{acks: map[uint64]*pb.Ack{}, refused: map[uint64]error{}}
	if err := r.sendAttestation(ctx, conn); err != nil {
		return out, err
	}
	pending, err := r.spool.Pending()
	if err != nil {
		return out, err
	}
	for _, rep := range pending {
		actx, cancel := context.WithTimeout(ctx, r.cfg.AckTimeout)
		ack, err := conn.Send(actx, rep)
		cancel()
		var se *client.ServerError
		if errors.As(err, &se) && se.Sequence == rep.GetSequence() && (se.Code == client.CodeSequenceReplayed || se.Code == client.CodeBadReport) {
			// The server will never take this report; keeping it would
			// block every later one. Earlier ones are already acked.
			r.log.Error("report refused by the server, dropped", "sequence", rep.GetSequence(), "code", se.Code)
			r.recordError(se)
			out.refused[rep.GetSequence()] = se
			if err := r.spool.Ack(rep.GetSequence()); err != nil {
				return out, err
			}
			continue
		}
		if err != nil {
			return out, err
		}
		if err := r.spool.Ack(ack.GetSequence()); err != nil {
			return out, err
		}
		out.acks[ack.GetSequence()] = ack
		r.log.Info("report acknowledged", "sequence", ack.GetSequence(), "duplicate", ack.GetDuplicate())
		if _, err := r.dir.UpdateState(func(s *state.State) {
			s.LastAck = &state.AckInfo{Sequence: ack.GetSequence(), Time: r.cfg.Clock().UTC(), Duplicate: ack.GetDuplicate(),
				Decision: decisionFromWire(ack.GetDecision())}
			s.LastError = nil
			s.Refused = nil
		}); err != nil {
			return out, err
		}
	}
	return out, nil
}

func (r *Runner) recordError(err error) {
	_, uerr := r.dir.UpdateState(func(s *state.State) {
		s.LastError = &state.ErrorInfo{Time: r.cfg.Clock().UTC(), Message: truncate(err.Error(), 1024)}
	})
	if uerr != nil {
		r.log.Error("state update failed", "error", uerr.Error())
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Once runs one cycle, delivers the spool (this report last) and waits for
// this report's ack. Connection attempts are retried with backoff until
// ctx ends, so the caller's deadline is the overall timeout.
func (r *Runner) Once(ctx context.Context) (Result, error) {
	// A one-off run is someone asking: it tries even after a refusal
	// (which it records again if the server still refuses), so that a
	// refusal taken in error does not stick.
	if f, err := r.refused(); err == nil && f != nil {
		if _, err := r.dir.UpdateState(func(s *state.State) { s.Refused = nil }); err != nil {
			return Result{}, err
		}
	}
	res, err := r.Cycle(ctx)
	if err != nil {
		return res, err
	}
	bo := newBackoff(r.cfg.BackoffMin, r.cfg.BackoffMax)
	for {
		ack, err := r.onceDeliver(ctx, res.Sequence)
		if err == nil {
			res.Ack = ack
			return res, nil
		}
		if f, ok := r.refusal(err); ok {
			if rerr := r.recordRefusal(f); rerr != nil {
				return res, rerr
			}
			return res, &RefusedError{Refusal: f}
		}
		var se *client.ServerError
		if ctx.Err() != nil || errors.As(err, &se) || permanent(err) {
			r.recordError(err)
			return res, fmt.Errorf("report %d not acknowledged: %w", res.Sequence, err)
		}
		r.log.Warn("delivery failed, retrying", "error", err.Error())
		if !sleep(ctx, bo.next()) {
			r.recordError(err)
			return res, fmt.Errorf("report %d not acknowledged: %w", res.Sequence, err)
		}
	}
}

func (r *Runner) onceDeliver(ctx context.Context, seq uint64) (*pb.Ack, error) {
	conn, err := r.cfg.Dial(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	out, err := r.deliver(ctx, conn)
	if err != nil {
		return nil, err
	}
	// Apply a policy or renewal the server sent meanwhile; a recheck is
	// moot since this run ends.
	for {
		select {
		case cmd := <-conn.Commands():
			r.handle(ctx, conn, cmd)
			continue
		default:
		}
		break
	}
	if ack, ok := out.acks[seq]; ok {
		return ack, nil
	}
	if err, ok := out.refused[seq]; ok {
		return nil, err
	}
	// Not in the spool any more, yet not acked here: dropped by its limits.
	return nil, errDropped
}

// keyKind is the device key's kind as the report tells the server (which
// believes only what it verified at enrollment): the server's own word
// when the identity has it, else where the key lives; empty when the
// state directory cannot say.
func (r *Runner) keyKind() devkey.Kind {
	id, err := r.dir.LoadIdentity()
	if err == nil && id.KeyVerified.Valid() {
		return id.KeyVerified
	}
	k, err := r.dir.KeyKind()
	if err != nil {
		return ""
	}
	return k
}
