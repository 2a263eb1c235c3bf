package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/postern-dev/postern/checks/catalog" // the server evaluates every control itself
	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/server/api"
	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/events"
	"github.com/postern-dev/postern/server/ingest"
	"github.com/postern-dev/postern/server/metrics"
	"github.com/postern-dev/postern/server/store"
)

// pruneEvery is how often old history is deleted.
const pruneEvery = time.Hour

// Options are Run's dependencies besides the configuration.
type Options struct {
	Logger  *slog.Logger
	Now     func() time.Time
	Version string
	// Ready, if set, is called with the bound addresses once both
	// listeners accept connections.
	Ready func(quic, https net.Addr)
	// Init allows creating a new server (CA and database) in an empty data
	// directory, and starting over on a damaged database next to a CA
	// (CheckServerDir). Without it Run refuses both.
	Init bool
}

// Run serves until ctx ends, then shuts down and returns.
func Run(ctx context.Context, cfg Config, opt Options) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid config: %w", err)
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = clock.Now
	}
	log := opt.Logger
	proxies, _ := cfg.trustedProxies()
	policy, policyYAML, err := loadPolicyFile(cfg.PolicyFile)
	if err != nil {
		return err
	}
	hooks, err := loadWebhooks(cfg.Webhooks)
	if err != nil {
		return err
	}
	if err := checkDataDir(cfg.DataDir, cfg.AllowInsecureDataDir, log); err != nil {
		return err
	}
	note, err := CheckServerDir(cfg, opt.Init)
	if err != nil {
		return err
	}
	if note != "" {
		log.Warn("data_dir_init", "note", note)
	}
	st, database, err := OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if !opt.Init {
		if err := requireServer(ctx, st, cfg, database); err != nil {
			return err
		}
	}
	authority, err := LoadCA(ctx, st, cfg.DataDir, opt.Now())
	if err != nil {
		return err
	}
	cert, err := authority.ServerCertificate(cfg.DataDir, cfg.ServerNames, opt.Now())
	if err != nil {
		return err
	}
	raw := st
	// One posture cache serves every decision. Every part of the server
	// gets the store through ForgetOnWrite, so no writer can leave a
	// cached posture stale; other processes' writes show within its TTL.
	postures := decision.NewPostureCache(decision.DefaultPostureTTL)
	st = decision.ForgetOnWrite(st, postures)
	mets := metrics.New()
	// bus carries the events of the audit log (decision and policy
	// changes, whichever replica recorded them) to /v1/events; their IDs
	// are audit seqs, so a client resumes across restarts and replicas.
	// The feed fills it: first with the newest events, for clients
	// resuming with an ID from before this start.
	bus := events.NewBus(opt.Now)
	defer bus.Close()
	feed := events.NewFeed(st, bus, log.With("component", "events"))
	// A decision change recorded by any replica (an event of the audit
	// log) drops the device's cached posture here, so that decisions from
	// the whole fleet's postures in memory follow other replicas' writes
	// within the feed's poll.
	feed.OnEvent(func(e events.Event) {
		if e.DeviceID != "" {
			postures.Forget(e.DeviceID)
		}
	})
	if err := feed.Prime(ctx); err != nil {
		return fmt.Errorf("read recent events: %w", err)
	}
	// lc owns policy reloads, exceptions, decisions and the audit log.
	lc, err := newLifecycle(ctx, cfg, st, postures, feed.Nudge, log, opt.Now)
	if err != nil {
		return err
	}
	var up atomic.Bool

	kv, err := loadKeyAttestation(cfg.TPMEKCAFile)
	if err != nil {
		return err
	}
	ing, err := ingest.Listen(ingest.Config{KeyAttestation: kv, Addr: cfg.QUICAddr, CA: authority, Cert: cert, Store: metrics.InstrumentStore(st, mets), Policy: policy,
		PolicyYAML: policyYAML, Logger: log.With("component", "ingest"), Now: opt.Now, SoftwareVersion: opt.Version,
		PolicyFor: lc.policyFor, OnReport: lc.onReport, Decision: lc.engine.Current, OnAttestation: lc.onAttestation, Audit: lc.audit,
		GatewayURL: cfg.GatewayURL})
	if err != nil {
		return err
	}
	// TLS over TCP on the QUIC port number, for agents whose UDP is blocked.
	fallback, err := ing.ListenTCP()
	if err != nil {
		ing.Close()
		return err
	}
	defer fallback.Close()
	tcp, err := net.Listen("tcp", cfg.HTTPSAddr)
	if err != nil {
		ing.Close()
		return fmt.Errorf("listen https: %w", err)
	}
	handler := api.NewHandler(api.Config{Store: st,
		TrustedProxies: proxies, Logger: log.With("component", "api"), Now: opt.Now,
		Metrics: mets, Events: bus, Ready: readiness(raw, cfg, &up), Postures: postures, Decider: lc.engine})
	revocations := newRevocationWatcher(raw, ing.Disconnect, func(ctx context.Context, id string) {
		postures.Forget(id)
		if err := lc.engine.Reevaluate(ctx, id); err != nil && ctx.Err() == nil {
			log.Warn("re-decide after revocation failed", "device_id", id, "err", err)
		}
	})
	if err := revocations.prime(ctx); err != nil {
		ing.Close()
		tcp.Close()
		return fmt.Errorf("load revocations: %w", err)
	}
	dash, err := newDashboard(cfg, notifyRevoke(st, revocations.revoked), lc, authority.Pin(), ing, opt, log)
	if err != nil {
		ing.Close()
		tcp.Close()
		return err
	}
	hs := api.NewServer(cfg.HTTPSAddr, withDashboard(handler, dash), cert, log)
	if cfg.MetricsAddr != "" {
		addr, stopMetrics, err := serveMetrics(ctx, cfg.MetricsAddr, mets, log.With("component", "metrics"))
		if err != nil {
			ing.Close()
			tcp.Close()
			return err
		}
		defer stopMetrics()
		log.Info("metrics listening", "addr", addr.String())
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	wg.Add(3)
	go func() {
		defer wg.Done()
		if err := ing.Serve(ctx); err != nil {
			errc <- err
		}
		cancel()
	}()
	go func() {
		defer wg.Done()
		if err := hs.ServeTLS(tcp, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("serve https: %w", err)
		}
		cancel()
	}()
	go func() {
		defer wg.Done()
		pruneLoop(ctx, st, cfg.HistoryRetention, opt.Now, log)
	}()
	// Webhooks read the audit log from each hook's stored position, so
	// they also get what the lifecycle's first sweep announces (decisions
	// that changed while the server was down); one replica delivers.
	wg.Go(func() { feed.Run(ctx, events.DefaultPoll) })
	webhooksDone := api.StartWebhooks(ctx, api.WebhookConfig{Hooks: hooks, Source: feed, Store: st, Bus: bus,
		Logger: log.With("component", "webhooks"), Metrics: mets})
	lc.start(ctx, &wg)
	wg.Go(func() { revocations.run(ctx, log) })
	wg.Go(func() { <-webhooksDone })
	wg.Go(func() { dash.Maintain(ctx, dashboardMaintainEvery) })
	wg.Go(func() {
		if err := ing.ServeTCP(ctx, fallback); err != nil {
			log.Error("tcp fallback stopped", "err", err)
		}
	})
	up.Store(true)
	log.Info("listening", "quic", ing.Addr().String(), "https", tcp.Addr().String(), "data_dir", cfg.DataDir, "database", database,
		"ca_pin", fmt.Sprintf("%x", authority.Pin()))
	if opt.Ready != nil {
		opt.Ready(ing.Addr(), tcp.Addr())
	}
	<-ctx.Done()
	log.Info("shutting down")
	up.Store(false)
	bus.Close() // ends event streams, which never go idle for Shutdown
	shutdownCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	herr := hs.Shutdown(shutdownCtx)
	ing.Close()
	wg.Wait()
	close(errc)
	var errs []error
	for err := range errc {
		errs = append(errs, err)
	}
	if herr != nil && !errors.Is(herr, context.DeadlineExceeded) {
		errs = append(errs, fmt.Errorf("shut down https: %w", herr))
	}
	return errors.Join(errs...)
}

func pruneLoop(ctx context.Context, st store.Store, keep time.Duration, now func() time.Time, log *slog.Logger) {
	t := time.NewTicker(pruneEvery)
	defer t.Stop()
	for {
		n, err := st.Prune(ctx, now().Add(-keep))
		if err != nil && ctx.Err() == nil {
			log.Warn("prune history failed", "err", err)
		} else if n > 0 {
			log.Info("pruned history", "rows", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
