package loadgen

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/postern-dev/postern/checks"
	_ "github.com/postern-dev/postern/checks/catalog" // every control's collector, for the snapshot reports
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/internal/clock"
	pb "github.com/postern-dev/postern/proto"
	"github.com/postern-dev/postern/server/ca"
	"github.com/postern-dev/postern/server/serve"
	"github.com/postern-dev/postern/server/store"
)

// Config is one load run.
type Config struct {
	// ServerBin is the postern-server binary to run.
	ServerBin string
	// Agents is how many simulated agents enroll, connect and report.
	Agents int
	// Interval is each agent's report period (jittered by ±20%).
	Interval time.Duration
	// Duration is the measured phase, after every agent has connected.
	Duration time.Duration
	// Flip is the share of reports that flip the firewall control's
	// compliance, and so the device's decision.
	Flip float64
	// Gateways ask for decisions at DecisionRate per second in all;
	// Followers follow the event stream.
	Gateways     int
	DecisionRate float64
	Followers    int
	// Database is a PostgreSQL connection string; SQLite when empty.
	Database string
	// DataDir is the server's scratch data directory; a new temporary
	// one, removed afterwards, when empty.
	DataDir string
	// AgentsPerSource is how many agents share one source address.
	AgentsPerSource int
	// Snapshots is checks/testdata/snapshots, whose Linux laptops give the
	// reports' facts.
	Snapshots string
	Logger    *slog.Logger
}

func (c *Config) defaults() {
	if c.Interval <= 0 {
		c.Interval = 20 * time.Second
	}
	if c.Duration <= 0 {
		c.Duration = time.Minute
	}
	if c.Flip == 0 {
		c.Flip = 0.1
	}
	if c.AgentsPerSource <= 0 {
		c.AgentsPerSource = 100
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Result is what a run measured.
type Result struct {
	Agents, Enrolled, Connected  int
	Database                     string
	EnrollTime, ConnectTime      time.Duration
	Measured                     time.Duration
	Reports                      int
	ReportsPerSec                float64
	ReportP50, ReportP99         time.Duration
	ReportMax                    time.Duration
	Decisions                    int
	DecisionP50, DecisionP99     time.Duration
	DecisionErrors               int
	Events                       int
	EventDelayP50, EventDelayP99 time.Duration
	// ServerRSSIdle is the server's resident memory before any agent;
	// RSSPerAgent the growth per connected agent.
	ServerRSSIdle, ServerRSSLoaded int64
	RSSPerAgent                    float64
	// CPUPerReport is the server's CPU time in the measured phase per
	// report (decisions and events included); ServerCores its average use.
	CPUPerReport time.Duration
	ServerCores  float64
	Failures     map[string]int
	Examples     map[string]string
	ServerErrors []string
}

// Run starts the server and drives it; it returns when the measured
// phase is over and the server has stopped.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg.defaults()
	res := Result{Agents: cfg.Agents, Database: "sqlite"}
	if cfg.Database != "" {
		res.Database = "postgresql"
	}
	log := cfg.Logger
	reports, err := snapshotReports(cfg.Snapshots)
	if err != nil {
		return res, err
	}
	if cfg.DataDir == "" {
		dir, err := os.MkdirTemp("", "postern-load-")
		if err != nil {
			return res, err
		}
		defer os.RemoveAll(dir)
		cfg.DataDir = dir
	}
	srv, err := startServer(ctx, cfg.ServerBin, cfg.DataDir, cfg.Database)
	if err != nil {
		return res, err
	}
	defer srv.stop()
	time.Sleep(3 * time.Second) // start-up garbage collected, as on a long-running server
	idle, err := srv.stat()
	if err != nil {
		return res, err
	}
	res.ServerRSSIdle = idle.rssBytes
	roots, tokens, apiKey, err := provision(ctx, cfg, cfg.Agents)
	if err != nil {
		return res, err
	}
	qaddr, err := net.ResolveUDPAddr("udp", srv.quic)
	if err != nil {
		return res, err
	}

	var fails failures
	agents, sources, err := makeAgents(cfg, qaddr, roots)
	if err != nil {
		return res, err
	}
	defer func() {
		for _, a := range agents {
			a.close()
		}
		for _, s := range sources {
			s.close()
		}
	}()
	log.Info("enrolling", "agents", len(agents))
	t0 := time.Now() // wall clock: elapsed time of a phase
	agents = parallel(ctx, agents, 16, func(a *agent) error {
		return retryBusy(ctx, &fails, func() error { return a.enroll(ctx, tokens[a.id]) })
	}, &fails)
	res.EnrollTime, res.Enrolled = time.Since(t0), len(agents) // wall clock: elapsed time of a phase
	log.Info("connecting", "agents", len(agents))
	t0 = time.Now() // wall clock: elapsed time of a phase
	agents = parallel(ctx, agents, 64, func(a *agent) error {
		return retryBusy(ctx, &fails, func() error { return a.connect(ctx) })
	}, &fails)
	res.ConnectTime, res.Connected = time.Since(t0), len(agents) // wall clock: elapsed time of a phase
	if len(agents) == 0 {
		return res, fmt.Errorf("no agent connected: %v", fails.examples)
	}

	// The measured phase.
	log.Info("measuring", "agents", len(agents), "for", cfg.Duration)
	mctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	gw, err := startGateways(mctx, cfg, srv.https, roots, apiKey, agents)
	if err != nil {
		return res, err
	}
	cpu0, _ := srv.stat()
	start := time.Now() // wall clock: elapsed time of a phase
	var (
		mu   sync.Mutex
		rtts []time.Duration
		wg   sync.WaitGroup
	)
	for _, a := range agents {
		wg.Go(func() {
			mine := drive(mctx, a, cfg, reports, gw.flipped, &fails)
			mu.Lock()
			rtts = append(rtts, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	res.Measured = time.Since(start) // wall clock: elapsed time of a phase
	cpu1, _ := srv.stat()
	// Memory at the end of the measured phase, every agent connected
	// and reporting.
	res.ServerRSSLoaded = cpu1.rssBytes
	res.RSSPerAgent = float64(cpu1.rssBytes-idle.rssBytes) / float64(len(agents))
	gw.wait()

	res.Reports = len(rtts)
	res.ReportsPerSec = float64(len(rtts)) / res.Measured.Seconds()
	res.ReportP50, res.ReportP99, res.ReportMax = pct(rtts, 50), pct(rtts, 99), pct(rtts, 100)
	res.Decisions, res.DecisionErrors = len(gw.decisions), int(gw.decisionErrors.Load())
	res.DecisionP50, res.DecisionP99 = pct(gw.decisions, 50), pct(gw.decisions, 99)
	res.Events = len(gw.eventDelays)
	res.EventDelayP50, res.EventDelayP99 = pct(gw.eventDelays, 50), pct(gw.eventDelays, 99)
	if res.Reports > 0 {
		res.CPUPerReport = (cpu1.cpu - cpu0.cpu) / time.Duration(res.Reports)
	}
	res.ServerCores = (cpu1.cpu - cpu0.cpu).Seconds() / res.Measured.Seconds()
	res.Failures, res.Examples = fails.counts, fails.examples
	for {
		select {
		case l := <-srv.logErrors:
			// Requests the gateways abandoned as the run ended are not
			// the server's failures.
			if !strings.Contains(l, "context canceled") {
				res.ServerErrors = append(res.ServerErrors, l)
			}
			continue
		default:
		}
		break
	}
	return res, nil
}

// drive reports on the agent's schedule until ctx ends, reconnecting
// with backoff after a failure as the agent does; it returns the round
// trips.
func drive(ctx context.Context, a *agent, cfg Config, reports snapshotPair, flipped func(string, bool), fails *failures) []time.Duration {
	var rtts []time.Duration
	timer := time.NewTimer(time.Duration(mrand.Int64N(int64(cfg.Interval))))
	defer timer.Stop()
	backoff := time.Second
	for {
		select {
		case <-ctx.Done():
			return rtts
		case <-timer.C:
		}
		if a.conn == nil {
			if err := a.connect(ctx); err != nil {
				if ctx.Err() == nil {
					fails.add(err)
				}
				timer.Reset(jitter(backoff, 0.5))
				backoff = min(2*backoff, 30*time.Second)
				continue
			}
			backoff = time.Second
		}
		if mrand.Float64() < cfg.Flip {
			a.compliant = !a.compliant
			flipped(a.device, a.compliant)
		}
		rtt, err := a.report(reports.wire(a.compliant), 30*time.Second)
		switch {
		case err != nil && ctx.Err() != nil:
			return rtts // the run ended mid-report
		case err != nil:
			fails.add(err)
			a.close()
		default:
			rtts = append(rtts, rtt)
		}
		timer.Reset(jitter(cfg.Interval, 0.2))
	}
}

// retryBusy retries fn while the server refuses it for its connection
// limits, with backoff, as an agent retries; the refusals are counted
// under "busy_retried", apart from failures.
func retryBusy(ctx context.Context, fails *failures, fn func() error) error {
	backoff := 200 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil || attempt == 8 || !isBusy(err) || ctx.Err() != nil {
			return err
		}
		fails.addKind("busy_retried", err)
		time.Sleep(jitter(backoff, 0.5))
		backoff *= 2
	}
}

// parallel runs fn for every agent, n at a time, and returns those for
// which it succeeded.
func parallel(ctx context.Context, agents []*agent, n int, fn func(*agent) error, fails *failures) []*agent {
	ok := make([]bool, len(agents))
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, a := range agents {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(a); err != nil {
				fails.add(err)
				return
			}
			ok[i] = true
		})
	}
	wg.Wait()
	var out []*agent
	for i, a := range agents {
		if ok[i] {
			out = append(out, a)
		}
	}
	return out
}

func makeAgents(cfg Config, addr net.Addr, roots *x509.CertPool) ([]*agent, []*source, error) {
	var sources []*source
	agents := make([]*agent, cfg.Agents)
	for i := range agents {
		if i%cfg.AgentsPerSource == 0 {
			s, err := newSource(sourceIP(len(sources)))
			if err != nil {
				for _, s := range sources {
					s.close()
				}
				return nil, nil, err
			}
			sources = append(sources, s)
		}
		agents[i] = &agent{id: i, src: sources[len(sources)-1], addr: addr, roots: roots, compliant: true}
	}
	return agents, sources, nil
}

// provision reads the server's CA and creates a one-time enrollment token
// per agent and a gateway API key in its store, as `token create` and
// `apikey create` would, without a process per token.
func provision(ctx context.Context, cfg Config, n int) (*x509.CertPool, []string, string, error) {
	pemBytes, err := os.ReadFile(filepath.Join(cfg.DataDir, ca.CAFile))
	if err != nil {
		return nil, nil, "", err
	}
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, nil, "", errors.New("ca.pem holds no certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, nil, "", err
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	pin := sha256.Sum256(cert.Raw)
	st, _, err := serve.OpenStore(ctx, serve.Config{DataDir: cfg.DataDir, Database: cfg.Database})
	if err != nil {
		return nil, nil, "", err
	}
	defer st.Close()
	now := clock.Now()
	tokens := make([]string, n)
	for i := range tokens {
		tok, rec, err := store.NewEnrollToken(pin, 24*time.Hour, "load", "", now)
		if err != nil {
			return nil, nil, "", err
		}
		if err := st.CreateToken(ctx, rec); err != nil {
			return nil, nil, "", err
		}
		tokens[i] = tok
	}
	key, rec, err := store.NewAPIKey("postern-load", now)
	if err != nil {
		return nil, nil, "", err
	}
	if err := st.CreateAPIKey(ctx, rec); err != nil {
		return nil, nil, "", err
	}
	return roots, tokens, key, nil
}

// snapshotPair is the facts of the recorded compliant Linux laptop, and
// the firewall observation of the non-compliant one.
type snapshotPair struct {
	base       *checks.Report
	firewallAt int
	bad        checks.Observation
}

func snapshotReports(dir string) (snapshotPair, error) {
	collect := func(name string) (*checks.Report, error) {
		h, err := host.OpenSnapshot(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("open snapshot %s (--snapshots): %w", name, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return checks.Collect(ctx, h, checks.Device{Hostname: "load", OS: "linux", OSName: "Debian GNU/Linux 12 (bookworm)", OSVersion: "12", Arch: "amd64"}, clock.Now()), nil
	}
	good, err := collect("linux-compliant")
	if err != nil {
		return snapshotPair{}, err
	}
	bad, err := collect("linux-noncompliant")
	if err != nil {
		return snapshotPair{}, err
	}
	i := slices.IndexFunc(good.Observations, func(o checks.Observation) bool { return o.ID == "firewall" })
	j := slices.IndexFunc(bad.Observations, func(o checks.Observation) bool { return o.ID == "firewall" })
	if i < 0 || j < 0 {
		return snapshotPair{}, errors.New("the snapshots have no firewall observation")
	}
	return snapshotPair{base: good, firewallAt: i, bad: bad.Observations[j]}, nil
}

// wire is a report collected now, compliant or with the firewall off.
func (p snapshotPair) wire(compliant bool) *pb.Report {
	r := *p.base
	r.CollectedAt = clock.Now().UTC()
	if !compliant {
		r.Observations = slices.Clone(r.Observations)
		r.Observations[p.firewallAt] = p.bad
	}
	return checks.ToWire(&r, 0)
}

// pct is the p-th percentile (nearest rank) of samples; 100 is the max.
func pct(samples []time.Duration, p int) time.Duration {
	if len(samples) == 0 {
		return 0
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	i := (len(s)*p+99)/100 - 1
	return s[max(0, min(i, len(s)-1))]
}
