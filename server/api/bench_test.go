package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/ca"
	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/exceptions"
	"github.com/postern-dev/postern/server/policy"
	"github.com/postern-dev/postern/server/store"
)

// BenchmarkDecisionHTTPS measures the decision API as a gateway uses it:
// HTTPS over loopback with keep-alive, POSTERN_BENCH_CONNS concurrent
// connections (default 32) asking about POSTERN_BENCH_DEVICES devices
// (default 1000) in turn. The handler is wired as serve wires it: the
// decision engine (exceptions index, decision recorder, change tracking)
// decides over a store wrapped by decision.ForgetOnWrite, with the posture
// cache (set POSTERN_BENCH_NO_POSTURE_CACHE to read the store every
// time). The load generator shares the process (and the machine's cores)
// with the server; with POSTERN_BENCH_SPLIT set it runs in a child process
// instead, so that the server's CPU time is measured alone. Reported:
// decisions/s, latency percentiles, and CPU time per decision with the
// rate it projects on two free cores.
func BenchmarkDecisionHTTPS(b *testing.B) {
	conns := envInt("POSTERN_BENCH_CONNS", 32)
	devices := envInt("POSTERN_BENCH_DEVICES", 1000)
	ctx := context.Background()
	dir := b.TempDir()
	st, err := store.OpenSQLite(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	authority, err := ca.LoadOrCreate(dir, clock.Now())
	if err != nil {
		b.Fatal(err)
	}
	now := clock.Now()
	body := passingReport(now)
	for i := range devices {
		id := fmt.Sprintf("dev-%05d", i)
		_, tok, _ := store.NewEnrollToken(authority.Pin(), time.Hour, "", "", now)
		st.CreateToken(ctx, tok)
		if _, err := st.Enroll(ctx, tok.Hash, store.Device{ID: id, CertSHA256: fmt.Sprintf("%064x", i), CertNotAfter: now.Add(time.Hour)}, now); err != nil {
			b.Fatal(err)
		}
		if _, err := st.IngestReport(ctx, store.Ingest{Report: store.Report{DeviceID: id, Sequence: 1, Hash: "h", CollectedAt: now, ReceivedAt: now, Body: body}}); err != nil {
			b.Fatal(err)
		}
	}
	plain, rec, _ := store.NewAPIKey("bench", now)
	st.CreateAPIKey(ctx, rec)
	cert, err := authority.ServerCertificate(dir, nil, now)
	if err != nil {
		b.Fatal(err)
	}
	var postures *decision.PostureCache
	if os.Getenv("POSTERN_BENCH_NO_POSTURE_CACHE") == "" {
		postures = decision.NewPostureCache(decision.DefaultPostureTTL)
	}
	h := benchHandler(b, decision.ForgetOnWrite(st, postures), postures)
	srv := NewServer("127.0.0.1:0", h, cert, discardLogger())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.ServeTLS(ln, "", "")
	defer srv.Close()

	base := "https://" + ln.Addr().String() + "/v1/decision?device_id="
	if os.Getenv("POSTERN_BENCH_SPLIT") != "" {
		benchSplit(b, dir, base, plain, conns, devices)
		return
	}
	lg := newLoadGen(authority.Certificate(), base, plain, conns, devices)
	if err := lg.warmUp(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	res := lg.run(b.N)
	b.StopTimer()
	if res.Err != "" {
		b.Fatal(res.Err)
	}
	b.ReportMetric(res.Rate, "decisions/s")
	b.ReportMetric(res.P50, "p50_ms")
	b.ReportMetric(res.P99, "p99_ms")
	b.ReportMetric(res.P999, "p99.9_ms")
	if res.CPU > 0 {
		// CPU per decision, server and load generator together: on a
		// shared machine wall-clock rates mostly measure the neighbours.
		per := res.CPU / time.Duration(res.Count)
		b.ReportMetric(float64(per.Nanoseconds())/1000, "cpu_us/decision")
		b.ReportMetric(2*float64(time.Second)/float64(per), "decisions/s_on_2_free_cores")
	}
}

// benchHandler builds the API over st as serve does; edits adjust the
// config (trusted proxies for /v1/authz and /v1/blocked).
func benchHandler(b *testing.B, st store.Store, postures *decision.PostureCache, edits ...func(*Config)) http.Handler {
	set, err := policy.Parse(nil)
	if err != nil {
		b.Fatal(err)
	}
	set.Version = 1
	auditLog := audit.New(st, clock.Now, nil)
	eng := decision.NewEngine(decision.EngineConfig{Store: st, Policies: staticSet{set}, Index: exceptions.NewIndex(st, clock.Now, nil),
		Audit: auditLog, Recorder: audit.NewDecisionRecorder(auditLog), Postures: postures})
	if err := eng.Sweep(context.Background(), true); err != nil {
		b.Fatal(err)
	}
	cfg := Config{Store: st, Postures: postures, Decider: eng}
	for _, e := range edits {
		e(&cfg)
	}
	return NewHandler(cfg)
}

type staticSet struct{ s *policy.Set }

func (p staticSet) Current() *policy.Set { return p.s }

func passingReport(at time.Time) []byte {
	r := checks.Report{CollectedAt: at}
	for _, id := range checks.AllControlIDs {
		r.Observations = append(r.Observations, checks.Observation{ID: id, Facts: json.RawMessage(`{"ok":true}`)})
	}
	body, _ := json.Marshal(r)
	return body
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}
