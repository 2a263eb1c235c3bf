package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/postern-dev/postern/checks/catalog" // the server evaluates every control itself
	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/server/alerts"
	"github.com/postern-dev/postern/server/api"
	"github.com/postern-dev/postern/server/dashboard"
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

// Run serves until ctx ends, then shuts down and returns: build opens
// and binds everything (failing early, before anything is served), run
// serves until ctx ends and shuts the servers down, close releases what
// build opened, once, in reverse order.
func Run(ctx context.Context, cfg Config, opt Options) error {
	s, err := build(ctx, cfg, opt)
	if err != nil {
		return err
	}
	defer s.close()
	return s.run(ctx)
}

// server is a built postern-server: every part opened and bound, nothing
// served yet.
type server struct {
	cfg Config
	opt Options
	log *slog.Logger
	// closers release what build opened, run by close in reverse order.
	closers []func()

	raw         store.Store // the store as opened
	st          store.Store // raw behind ForgetOnWrite: what every part uses
	database    string
	pin         [32]byte
	postures    *decision.PostureCache
	mets        *metrics.Metrics
	bus         *events.Bus
	feed        *events.Feed
	lc          *lifecycle
	hooks       []events.Webhook
	alertChans  []alerts.Channel
	ing         *ingest.Server
	fallback    net.Listener
	tcp         net.Listener
	hs          *http.Server
	httpsCert   *httpsCert
	revocations *revocationWatcher
	dash        *dashboard.Dashboard
	up          atomic.Bool
}

// onClose adds f to what close runs.
func (s *server) onClose(f func()) { s.closers = append(s.closers, f) }

// close releases what build opened, newest first.
func (s *server) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// build validates the configuration and opens the store, CA, policy,
// decision engine, listeners and handlers. On error it closes whatever
// it had opened.
func build(ctx context.Context, cfg Config, opt Options) (_ *server, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid config: %w", err)
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = clock.Now
	}
	s := &server{cfg: cfg, opt: opt, log: opt.Logger}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	log := s.log
	proxies, _ := cfg.trustedProxies()
	policy, policyYAML, err := loadPolicyFile(cfg.PolicyFile)
	if err != nil {
		return nil, err
	}
	if s.hooks, err = loadWebhooks(cfg.Webhooks); err != nil {
		return nil, err
	}
	if s.alertChans, err = cfg.Alerts.Channels(opt.Now); err != nil {
		return nil, err
	}
	if err := checkDataDir(cfg.DataDir, cfg.AllowInsecureDataDir, log); err != nil {
		return nil, err
	}
	note, err := CheckServerDir(cfg, opt.Init)
	if err != nil {
		return nil, err
	}
	if note != "" {
		log.Warn("data_dir_init", "note", note)
	}
	if s.raw, s.database, err = OpenStore(ctx, cfg); err != nil {
		return nil, err
	}
	s.onClose(func() { s.raw.Close() })
	if !opt.Init {
		if err := requireServer(ctx, s.raw, cfg, s.database); err != nil {
			return nil, err
		}
	}
	authority, err := LoadCA(ctx, s.raw, cfg.DataDir, opt.Now())
	if err != nil {
		return nil, err
	}
	s.pin = authority.Pin()
	cert, err := authority.ServerCertificate(cfg.DataDir, cfg.ServerNames, opt.Now())
	if err != nil {
		return nil, err
	}
	// One posture cache serves every decision. Every part of the server
	// gets the store through ForgetOnWrite, so no writer can leave a
	// cached posture stale; other processes' writes show within its TTL.
	s.postures = decision.NewPostureCache(decision.DefaultPostureTTL)
	s.st = decision.ForgetOnWrite(s.raw, s.postures)
	s.mets = metrics.New()
	// bus carries the events of the audit log (decision and policy
	// changes, whichever replica recorded them) to /v1/events; their IDs
	// are audit seqs, so a client resumes across restarts and replicas.
	// The feed fills it: first with the newest events, for clients
	// resuming with an ID from before this start.
	s.bus = events.NewBus(opt.Now)
	s.onClose(s.bus.Close)
	s.feed = events.NewFeed(s.st, s.bus, log.With("component", "events"))
	// A decision change recorded by any replica (an event of the audit
	// log) drops the device's cached posture here, so that decisions from
	// the whole fleet's postures in memory follow other replicas' writes
	// within the feed's poll.
	s.feed.OnEvent(func(e events.Event) {
		if e.DeviceID != "" {
			s.postures.Forget(e.DeviceID)
		}
	})
	if err := s.feed.Prime(ctx); err != nil {
		return nil, fmt.Errorf("read recent events: %w", err)
	}
	// lc owns policy reloads, exceptions, decisions and the audit log.
	if s.lc, err = newLifecycle(ctx, cfg, s.st, s.postures, s.feed.Nudge, log, opt.Now); err != nil {
		return nil, err
	}
	kv, err := loadKeyAttestation(cfg.TPMEKCAFile)
	if err != nil {
		return nil, err
	}
	lc := s.lc
	s.ing, err = ingest.Listen(ingest.Config{KeyAttestation: kv, Addr: cfg.QUICAddr, CA: authority, Cert: cert, Store: metrics.InstrumentStore(s.st, s.mets), Policy: policy,
		PolicyYAML: policyYAML, Logger: log.With("component", "ingest"), Now: opt.Now, SoftwareVersion: opt.Version,
		PolicyFor: lc.policyFor, Evaluate: lc.engine.Evaluate, Decision: lc.engine.AfterReport, OnAttestation: lc.onAttestation, Audit: lc.audit,
		GatewayURL: cfg.GatewayURL, Servers: cfg.Replicas, HoldEnrollments: cfg.Enrollment.Approve == ApproveManual})
	if err != nil {
		return nil, err
	}
	s.onClose(func() { s.ing.Close() })
	// TLS over TCP on the QUIC port number, for agents whose UDP is blocked.
	if s.fallback, err = s.ing.ListenTCP(); err != nil {
		return nil, err
	}
	s.onClose(func() { s.fallback.Close() })
	if s.tcp, err = net.Listen("tcp", cfg.HTTPSAddr); err != nil {
		return nil, fmt.Errorf("listen https: %w", err)
	}
	s.onClose(func() { s.tcp.Close() })
	s.revocations = newRevocationWatcher(s.raw, s.ing.Disconnect, func(ctx context.Context, id string) {
		s.postures.Forget(id)
		if err := lc.engine.Reevaluate(ctx, id); err != nil && ctx.Err() == nil {
			log.Warn("re-decide after revocation failed", "device_id", id, "err", err)
		}
	})
	if err := s.revocations.prime(ctx); err != nil {
		return nil, fmt.Errorf("load revocations: %w", err)
	}
	handler := api.NewHandler(api.Config{Store: s.st,
		TrustedProxies: proxies, Logger: log.With("component", "api"), Now: opt.Now,
		Metrics: s.mets, Events: s.bus, Ready: readiness(s.raw, cfg, &s.up), Postures: s.postures, Decider: lc.engine,
		Manage: s.manageConfig()})
	if s.dash, err = newDashboard(cfg, notifyRevoke(s.st, s.revocations.revoked), lc, s.pin, s.ing, opt, log); err != nil {
		return nil, err
	}
	s.hs = api.NewServer(cfg.HTTPSAddr, withDashboard(handler, s.dash), cert, log)
	// The HTTPS port serves the operator's certificate when given one
	// (browsers trust the console), read per handshake so SIGHUP swaps it.
	if s.httpsCert, err = newHTTPSCert(cfg.TLSCert, cfg.TLSKey, cert, log.With("component", "https"), opt.Now); err != nil {
		return nil, err
	}
	s.hs.TLSConfig.Certificates = nil
	s.hs.TLSConfig.GetCertificate = s.httpsCert.GetCertificate
	if err := s.httpsCert.register(s.mets.Registry()); err != nil {
		return nil, fmt.Errorf("register https certificate metric: %w", err)
	}
	if cfg.MetricsAddr != "" {
		addr, stopMetrics, err := serveMetrics(ctx, cfg.MetricsAddr, s.mets, log.With("component", "metrics"))
		if err != nil {
			return nil, err
		}
		s.onClose(stopMetrics)
		log.Info("metrics listening", "addr", addr.String())
	}
	return s, nil
}

// run serves until ctx ends or a server fails, then shuts the servers
// down and waits for every loop.
func (s *server) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	log := s.log
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	wg.Go(func() {
		if err := s.ing.Serve(ctx); err != nil {
			errc <- err
		}
		cancel()
	})
	wg.Go(func() {
		if err := s.hs.ServeTLS(s.tcp, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("serve https: %w", err)
		}
		cancel()
	})
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	wg.Go(func() {
		defer signal.Stop(hup)
		s.httpsCert.watch(ctx, hup)
	})
	if s.cfg.TLSCert == "" {
		s.httpsCert.checkExpiry()
	}
	wg.Go(func() { pruneLoop(ctx, s.st, s.cfg.HistoryRetention, s.opt.Now, log) })
	// Webhooks read the audit log from each hook's stored position, so
	// they also get what the lifecycle's first sweep announces (decisions
	// that changed while the server was down); one replica delivers.
	wg.Go(func() { s.feed.Run(ctx, events.DefaultPoll) })
	webhooksDone := events.StartWebhooks(ctx, events.WebhookConfig{Hooks: s.hooks, Source: s.feed, Store: s.st, Bus: s.bus,
		Logger: log.With("component", "webhooks"), Metrics: s.mets})
	s.lc.start(ctx, &wg)
	wg.Go(func() { s.revocations.run(ctx, log) })
	wg.Go(func() { <-webhooksDone })
	wg.Go(func() { s.dash.Maintain(ctx, dashboardMaintainEvery) })
	s.startAlerts(ctx, &wg, log)
	wg.Go(func() {
		if err := s.ing.ServeTCP(ctx, s.fallback); err != nil {
			log.Error("tcp fallback stopped", "err", err)
		}
	})
	s.up.Store(true)
	log.Info("listening", "quic", s.ing.Addr().String(), "https", s.tcp.Addr().String(), "https_certificate", s.httpsCert.Current().Subject.String(), "data_dir", s.cfg.DataDir, "database", s.database,
		"ca_pin", fmt.Sprintf("%x", s.pin))
	if s.opt.Ready != nil {
		s.opt.Ready(s.ing.Addr(), s.tcp.Addr())
	}
	<-ctx.Done()
	log.Info("shutting down")
	s.up.Store(false)
	s.bus.Close() // ends event streams, which never go idle for Shutdown
	shutdownCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	herr := s.hs.Shutdown(shutdownCtx)
	s.ing.Close()
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
