package ingest

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/internal/clock"
	pb "github.com/postern-dev/postern/proto"
	"github.com/postern-dev/postern/server/ca"
	"github.com/postern-dev/postern/server/store"
)

var (
	benchAgents = flag.Int("agents", 100, "agents connected at once in BenchmarkReportRoundTrip (or POSTERN_BENCH_AGENTS)")
	benchRate   = flag.Float64("rate", 1000, "aggregate reports per second of the steady phase of BenchmarkReportRoundTrip (or POSTERN_BENCH_RATE)")
)

func agentCount() int {
	if v, err := strconv.Atoi(os.Getenv("POSTERN_BENCH_AGENTS")); err == nil && v > 0 {
		return v
	}
	return *benchAgents
}

func steadyRate() float64 {
	if v, err := strconv.ParseFloat(os.Getenv("POSTERN_BENCH_RATE"), 64); err == nil && v > 0 {
		return v
	}
	return *benchRate
}

// provision enrolls a device directly in the store (enrollment is not what
// the benchmark measures), without an agent secret as a device enrolled
// before agent secrets, and returns its identity.
func (e *env) provision(b testing.TB) device {
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

// benchAgent is one simulated agent: a connected control stream and the
// report it sends again and again with the next sequence number. An agent
// sends one report at a time, as the real one does.
type benchAgent struct {
	c      *client
	report *pb.Report
	seq    uint64
	lat    []time.Duration
}

// roundTrip sends the agent's next report and waits for its ack.
func (a *benchAgent) roundTrip() error {
	a.seq++
	a.report.Sequence = a.seq
	if err := pb.WriteMsg(a.c.str, &pb.Envelope{Msg: &pb.Envelope_Report{Report: a.report}}); err != nil {
		return err
	}
	ans, err := a.c.recv()
	if err != nil {
		return err
	}
	if ans.GetAck().GetSequence() != a.seq {
		return fmt.Errorf("answer to report %d: %v", a.seq, ans)
	}
	return nil
}

// benchReport is a report about the size of a real one (a few KB), whose
// facts the evaluators mostly cannot decode, so that every control fails
// and the store records failures too.
func benchReport(hostname string) *pb.Report {
	r := &checks.Report{Device: checks.Device{Hostname: hostname, OS: "windows", OSName: "Windows 11 Pro", OSVersion: "10.0.26100", Arch: "amd64"},
		CollectedAt: clock.Now().UTC()}
	detail := strings.Repeat("observed ", 20)
	for _, id := range checks.AllControlIDs {
		facts, _ := json.Marshal(map[string]any{"enabled": true, "source": "registry", "detail": detail})
		r.Observations = append(r.Observations, checks.Observation{ID: id, Facts: facts})
	}
	return checks.ToWire(r, 0)
}

// connectFleet provisions n devices, connects them all and has each send
// one report, before anything is timed.
func connectFleet(b *testing.B, e *env, n int) []*benchAgent {
	fleet := make([]*benchAgent, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range fleet {
		d := e.provision(b)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			a := &benchAgent{c: e.control(d), report: benchReport(fmt.Sprintf("laptop-%05d", i))}
			// A device's very first report also records its failing
			// controls; that happens once per device, not at every report.
			if err := a.roundTrip(); err != nil {
				b.Errorf("agent %d: warm-up report: %v", i, err)
			}
			fleet[i] = a
		}()
	}
	wg.Wait()
	return fleet
}

// BenchmarkReportRoundTrip measures report -> commit -> ack over loopback
// QUIC with N agents connected at once (-agents or POSTERN_BENCH_AGENTS,
// default 100); connections, and each device's first report, are made
// before timing. The latency of each report runs from when it was due to
// when its ack arrived, so a late sender counts against the server too.
//
//   - steady: the agents report at an aggregate -rate (POSTERN_BENCH_RATE,
//     default 1000/s), evenly spread, each agent every N/rate seconds; one
//     op is one second of this load.
//   - burst: one op is a round in which every agent reports at the same
//     instant; the next round starts when every ack has arrived.
//
// Run it with, for example,
//
//	POSTERN_BENCH_AGENTS=1000 go test -run x -bench ReportRoundTrip -benchtime 5x ./server/ingest/
func BenchmarkReportRoundTrip(b *testing.B) {
	n := agentCount()
	e := start(b, "", func(c *Config) { c.MaxConns = n + 10 })
	fleet := connectFleet(b, e, n)
	defer func() {
		for _, a := range fleet {
			a.c.close()
		}
	}()
	b.Run("steady", func(b *testing.B) { benchSteady(b, fleet, steadyRate()) })
	b.Run("burst", func(b *testing.B) { benchBurst(b, fleet) })
}

func benchSteady(b *testing.B, fleet []*benchAgent, rate float64) {
	n := len(fleet)
	second := float64(time.Second)
	period := time.Duration(float64(n) / rate * second)
	begin := time.Now().Add(10 * time.Millisecond)
	end := begin.Add(time.Duration(b.N) * time.Second)
	cpu0, _ := processCPU()
	var wg sync.WaitGroup
	b.ResetTimer()
	for j, a := range fleet {
		a.lat = a.lat[:0]
		first := begin.Add(time.Duration(float64(j) / rate * second))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for due := first; due.Before(end); due = due.Add(period) {
				time.Sleep(time.Until(due))
				if err := a.roundTrip(); err != nil {
					b.Errorf("agent %d: %v", j, err)
					return
				}
				a.lat = append(a.lat, time.Since(due))
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	reportLatency(b, fleet, time.Since(begin), cpu0)
}

func benchBurst(b *testing.B, fleet []*benchAgent) {
	for _, a := range fleet {
		a.lat = a.lat[:0]
	}
	var wg sync.WaitGroup
	begin := time.Now()
	cpu0, _ := processCPU()
	for b.Loop() {
		for j, a := range fleet {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t0 := time.Now()
				if err := a.roundTrip(); err != nil {
					b.Errorf("agent %d: %v", j, err)
					return
				}
				a.lat = append(a.lat, time.Since(t0))
			}()
		}
		wg.Wait()
	}
	reportLatency(b, fleet, time.Since(begin), cpu0)
}

// reportLatency reports the fleet's latency percentiles in milliseconds,
// the achieved throughput, and the process's CPU time per report since
// cpu0 (agents and server together, as they share the process).
func reportLatency(b *testing.B, fleet []*benchAgent, elapsed, cpu0 time.Duration) {
	var all []time.Duration
	for _, a := range fleet {
		all = append(all, a.lat...)
	}
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	b.ReportMetric(ms(percentile(all, 50)), "p50_ms")
	b.ReportMetric(ms(percentile(all, 99)), "p99_ms")
	b.ReportMetric(ms(all[len(all)-1]), "max_ms")
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "reports/s")
	b.ReportMetric(float64(len(fleet)), "agents")
	if cpu1, ok := processCPU(); ok {
		b.ReportMetric(float64(cpu1-cpu0)/float64(time.Microsecond)/float64(len(all)), "cpu_µs/report")
	}
}

// percentile returns the p-th percentile of sorted samples (nearest rank).
func percentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p+99)/100 - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
