package ingest

import (
	"context"
	"crypto/tls"
	"flag"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/postern-dev/postern/server/ca"
	"github.com/postern-dev/postern/server/store"
)

var benchAgents = flag.Int("agents", 100, "agents connected at once in BenchmarkReportRoundTrip (or POSTERN_BENCH_AGENTS)")

func agentCount() int {
	if v, err := strconv.Atoi(os.Getenv("POSTERN_BENCH_AGENTS")); err == nil && v > 0 {
		return v
	}
	return *benchAgents
}

// provision enrolls a device directly in the store (enrollment is not what
// the benchmark measures) and returns its identity.
func (e *env) provision(b *testing.B) device {
	key, csr := newCSR(b)
	id := uuid.NewString()
	now := e.clock.Now()
	cert, err := e.ca.SignCSR(csr, id, now, now.Add(ca.DeviceLifetime))
	if err != nil {
		b.Fatal(err)
	}
	_, tok, _ := store.NewEnrollToken(e.ca.Pin(), time.Hour, "", "", now)
	if err := e.store.CreateToken(context.Background(), tok); err != nil {
		b.Fatal(err)
	}
	if _, err := e.store.Enroll(context.Background(), tok.Hash, store.Device{ID: id, CertSHA256: ca.Fingerprint(cert.Raw), CertNotAfter: cert.NotAfter}, now); err != nil {
		b.Fatal(err)
	}
	return device{id: id, cert: tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key}}
}

// BenchmarkReportRoundTrip connects N agents at once over loopback QUIC
// (-agents or POSTERN_BENCH_AGENTS, default 100). One op is a round in
// which every agent sends a report and waits for its ack; the report->ack
// latency percentiles are reported in milliseconds.
func BenchmarkReportRoundTrip(b *testing.B) {
	n := agentCount()
	e := start(b, "", func(c *Config) { c.MaxConns = n + 10 })
	clients := make([]*client, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range clients {
		d := e.provision(b)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			clients[i] = e.control(d)
		}()
	}
	wg.Wait()
	report := wireReport(1, "bench")
	lat := make([][]time.Duration, n)
	seq := uint64(0)
	start := time.Now()
	for b.Loop() {
		seq++
		for i, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				env := cloneReport(report, seq)
				t0 := time.Now()
				ans := c.report(env)
				lat[i] = append(lat[i], time.Since(t0))
				if ans.GetAck().GetSequence() != seq {
					b.Errorf("agent %d: answer %v", i, ans)
				}
			}()
		}
		wg.Wait()
	}
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	if len(all) > 0 {
		b.ReportMetric(ms(all[len(all)/2]), "p50_ms")
		b.ReportMetric(ms(all[len(all)*99/100]), "p99_ms")
		b.ReportMetric(float64(len(all))/elapsed.Seconds(), "reports/s")
	}
	b.ReportMetric(float64(n), "agents")
	for _, c := range clients {
		c.close()
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
