package serve

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/exceptions"
	"github.com/postern-dev/postern/server/policy"
	"github.com/postern-dev/postern/server/store"
)

// Intervals of the lifecycle loops.
const (
	// sweepEvery bounds how late a change no report causes (a stale
	// report, an expired exception, a revocation from the command line)
	// is noticed and published.
	sweepEvery = 15 * time.Second
	// auditPruneEvery is how often old audit rows are deleted.
	auditPruneEvery = 24 * time.Hour
	// reportQueue bounds reports waiting to be re-decided; past it the
	// sweep catches up.
	reportQueue = 1024
)

// lifecycle holds the policy, exceptions, decision engine and audit log
// of a running server.
type lifecycle struct {
	cfg Config
	log *slog.Logger
	now func() time.Time
	st  store.Store
	// nudge makes the event feed read the audit log now (after a
	// change was recorded).
	nudge    func()
	audit    *audit.Log
	recorder *audit.DecisionRecorder
	// exceptions is the one service through which the server (dashboard,
	// agent attestations) changes exceptions and attestations.
	exceptions *exceptions.Service
	policies   *policy.Manager
	index      *exceptions.Index
	engine     *decision.Engine
	reports    chan string
	sweepNow   chan struct{}
	// checkpoints anchors the audit chain outside the database.
	checkpoints *audit.Checkpointer
}

// policyRef lets the engine read the manager, which needs the engine for
// its guard, so it is set after both exist.
type policyRef struct{ m *policy.Manager }

func (r *policyRef) Current() *policy.Set { return r.m.Current() }

// newLifecycle loads the policy (guarded against the last applied one),
// the exceptions, and every device's current decision as a baseline.
// postures is the posture cache the engine decides from; st must write
// through decision.ForgetOnWrite over it.
func newLifecycle(ctx context.Context, cfg Config, st store.Store, postures *decision.PostureCache, nudge func(), log *slog.Logger, now func() time.Time) (*lifecycle, error) {
	if nudge == nil {
		nudge = func() {}
	}
	l := &lifecycle{cfg: cfg, log: log, now: now, st: st, nudge: nudge,
		reports: make(chan string, reportQueue), sweepNow: make(chan struct{}, 1)}
	l.audit = audit.New(st, now, log.With("component", "audit"))
	// Keyed before anything appends, so no row of this run is unkeyed.
	if err := l.audit.OpenKeyed(ctx, cfg.DataDir); err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	l.checkpoints = audit.NewCheckpointer(l.audit, audit.CheckpointPath(cfg.DataDir), func(cp audit.Checkpoint) {
		// This line is the copy outside the data directory: the journal
		// or syslog keeps it where a database writer cannot reach.
		log.Info("audit checkpoint", "seq", cp.Seq, "hash", cp.Hash, "key_id", cp.KeyID, "signature", cp.Signature)
	})
	l.recorder = audit.NewDecisionRecorder(l.audit)
	l.exceptions = exceptions.NewService(st, l.audit, now)
	l.index = exceptions.NewIndex(st, now, log.With("component", "exceptions"))
	if err := l.index.Refresh(ctx); err != nil {
		return nil, fmt.Errorf("load exceptions: %w", err)
	}
	ref := &policyRef{}
	l.engine = decision.NewEngine(decision.EngineConfig{Store: st, Policies: ref, Index: l.index, Postures: postures, Nudge: nudge,
		Audit: l.audit, Recorder: l.recorder, Logger: log.With("component", "decision"), Now: now})
	m, err := policy.NewManager(ctx, policy.Config{Path: cfg.PolicyFile, Store: st, Audit: l.audit, Impact: l.engine.Impact,
		MaxDenyShare: cfg.MassFailureShare, OnChange: l.policyChanged, Logger: log.With("component", "policy"), Now: now})
	if err != nil {
		return nil, err
	}
	ref.m, l.policies = m, m
	if err := l.engine.Restore(ctx); err != nil {
		return nil, fmt.Errorf("load last decisions: %w", err)
	}
	return l, nil
}

// exceptionsChanged makes a change made through this server apply at once:
// the index is reloaded and every device re-decided, instead of waiting for
// the periodic refresh and sweep.
func (l *lifecycle) exceptionsChanged(ctx context.Context) {
	if err := l.index.Refresh(ctx); err != nil {
		l.log.Warn("refresh exceptions failed", "err", err)
	}
	select {
	case l.sweepNow <- struct{}{}:
	default:
	}
}

// policyFor is ingest's PolicyFor: the organization's profile.
func (l *lifecycle) policyFor(org string) (*checks.Policy, []byte) {
	p := l.policies.Current().For(org)
	return p.Policy, p.AgentYAML
}

// onReport has the device re-decided soon (after an attestation); it never
// blocks the caller. A report needs none of it: the ack's decision
// (Engine.AfterReport) queues the change.
func (l *lifecycle) onReport(deviceID string) {
	select {
	case l.reports <- deviceID:
	default:
	}
}

// policyChanged runs inside the manager once a new set is active and
// audited: the policy_applied row is the policy-changed event.
func (l *lifecycle) policyChanged(*policy.Set) {
	l.nudge()
	select {
	case l.sweepNow <- struct{}{}:
	default:
	}
}

// start runs the lifecycle loops until ctx ends; wg tracks them.
func (l *lifecycle) start(ctx context.Context, wg *sync.WaitGroup) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	wg.Go(func() {
		defer signal.Stop(hup)
		l.policies.Watch(ctx, policy.DefaultPollInterval, hup)
	})
	wg.Go(func() { l.index.Run(ctx, exceptions.DefaultRefresh) })
	wg.Go(func() { l.recorder.Run(ctx) })
	wg.Go(func() { l.reevaluate(ctx) })
	wg.Go(func() { l.sweep(ctx) })
	wg.Go(func() { l.pruneAudit(ctx) })
	wg.Go(func() { l.checkpoints.Run(ctx, audit.DefaultCheckpointEvery) })
}

func (l *lifecycle) reevaluate(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-l.reports:
			if err := l.engine.Reevaluate(ctx, id); err != nil && ctx.Err() == nil {
				l.log.Warn("re-decide after report failed", "device_id", id, "err", err)
			}
		}
	}
}

// sweep re-decides every device at once (announcing what changed while
// the server was down, against the decisions Restore loaded), then every
// sweepEvery and whenever asked.
func (l *lifecycle) sweep(ctx context.Context) {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		if err := l.engine.Sweep(ctx, false); err != nil && ctx.Err() == nil {
			l.log.Warn("decision sweep failed", "err", err)
		}
		select {
		case <-ctx.Done():
			// Changes still queued are recorded before the store closes.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if err := l.engine.Flush(fctx); err != nil {
				l.log.Warn("record queued decision changes at shutdown failed", "err", err)
			}
			return
		case <-t.C:
		case <-l.sweepNow:
		}
	}
}

func (l *lifecycle) pruneAudit(ctx context.Context) {
	t := time.NewTicker(auditPruneEvery)
	defer t.Stop()
	for {
		if n, err := l.audit.Prune(ctx, l.cfg.AuditRetention); err != nil && ctx.Err() == nil {
			l.log.Warn("prune audit failed", "err", err)
		} else if n > 0 {
			l.log.Info("pruned audit log", "rows", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// loadPolicyFile validates the policy file before anything starts, so
// that a typo fails fast with its line; the manager then owns it.
func loadPolicyFile(path string) (*checks.Policy, []byte, error) {
	if path == "" {
		return checks.DefaultPolicy(), nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read policy: %w", err)
	}
	s, err := policy.Parse(data)
	if err != nil {
		return nil, nil, fmt.Errorf("policy %s: %w", path, err)
	}
	return s.Default.Policy, s.Default.AgentYAML, nil
}
