package api

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/internal/cputime"
)

// loadGen asks the decision API about devices in turn over conns
// keep-alive HTTPS connections, as a gateway does.
type loadGen struct {
	c             *http.Client
	urls          []string
	key           string
	conns, device int
}

// loadResult is what a run measured; it crosses the process boundary as
// JSON in the split benchmark.
type loadResult struct {
	Count          int
	Rate           float64
	P50, P99, P999 float64 // milliseconds
	CPU            time.Duration
	Err            string
}

func newLoadGen(ca *x509.Certificate, base, key string, conns, devices int) *loadGen {
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost", Time: clock.Now},
		MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}
	urls := make([]string, devices)
	for i := range urls {
		urls[i] = base + fmt.Sprintf("dev-%05d", i)
	}
	return &loadGen{c: &http.Client{Transport: tr, Timeout: 10 * time.Second}, urls: urls, key: key, conns: conns, device: devices}
}

func (g *loadGen) do(i int) (time.Duration, error) {
	req, err := http.NewRequest(http.MethodGet, g.urls[i%len(g.urls)], nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+g.key)
	start := time.Now()
	resp, err := g.c.Do(req)
	if err != nil {
		return 0, err
	}
	var d struct{ Allow bool }
	err = json.NewDecoder(resp.Body).Decode(&d)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if err == nil && (resp.StatusCode != 200 || !d.Allow) {
		err = fmt.Errorf("status %d allow %v", resp.StatusCode, d.Allow)
	}
	return took, err
}

// warmUp opens every connection and asks about every device once.
func (g *loadGen) warmUp() error {
	var wg sync.WaitGroup
	errs := make([]error, g.conns)
	for w := range g.conns {
		wg.Go(func() {
			for i := w; i < g.device; i += g.conns {
				if _, err := g.do(i); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// run makes n decisions and measures them; CPU is this process's.
func (g *loadGen) run(n int) loadResult {
	lat := make([][]time.Duration, g.conns)
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start, cpu0 := time.Now(), cputime.Process()
	for w := range g.conns {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				took, err := g.do(int(i))
				if err != nil {
					failed.CompareAndSwap(nil, err.Error())
					return
				}
				lat[w] = append(lat[w], took)
			}
		})
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), cputime.Process()-cpu0
	res := loadResult{CPU: cpu}
	if msg, ok := failed.Load().(string); ok {
		res.Err = msg
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return res
	}
	pct := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000 }
	res.Count, res.Rate = len(all), float64(len(all))/elapsed.Seconds()
	res.P50, res.P99, res.P999 = pct(0.50), pct(0.99), pct(0.999)
	return res
}

// benchSplit runs the load generator in a child process (this test binary
// running TestLoadGenerator), so that the server's CPU time per decision is
// measured alone.
func benchSplit(b *testing.B, dir, base, key string, conns, devices int) {
	cmd := exec.Command(os.Args[0], "-test.run", "^TestLoadGenerator$")
	cmd.Env = append(os.Environ(), "POSTERN_LOADGEN_BASE="+base, "POSTERN_LOADGEN_KEY="+key,
		"POSTERN_LOADGEN_CA="+filepath.Join(dir, "ca.pem"), "POSTERN_LOADGEN_N="+strconv.Itoa(b.N),
		"POSTERN_BENCH_CONNS="+strconv.Itoa(conns), "POSTERN_BENCH_DEVICES="+strconv.Itoa(devices))
	cmd.Stderr = os.Stderr
	b.ResetTimer()
	cpu0 := cputime.Process()
	out, err := cmd.Output()
	server := cputime.Process() - cpu0
	b.StopTimer()
	if err != nil {
		b.Fatalf("load generator: %v\n%s", err, out)
	}
	var res loadResult
	if err := json.Unmarshal(lastLine(out), &res); err != nil {
		b.Fatalf("load generator output %q: %v", out, err)
	}
	if res.Err != "" || res.Count == 0 {
		b.Fatalf("load generator: %q after %d decisions", res.Err, res.Count)
	}
	b.ReportMetric(res.Rate, "decisions/s")
	b.ReportMetric(res.P50, "p50_ms")
	b.ReportMetric(res.P99, "p99_ms")
	b.ReportMetric(res.P999, "p99.9_ms")
	if server > 0 && res.CPU > 0 {
		// The server's CPU includes the child's warm-up, so it is an upper bound.
		perServer := server / time.Duration(res.Count)
		perClient := res.CPU / time.Duration(res.Count)
		b.ReportMetric(float64(perServer.Nanoseconds())/1000, "server_cpu_us/decision")
		b.ReportMetric(float64(perClient.Nanoseconds())/1000, "loadgen_cpu_us/decision")
		b.ReportMetric(2*float64(time.Second)/float64(perServer), "server_decisions/s_on_2_free_cores")
	}
}

// lastLine returns the last line of out that holds a JSON object: the
// child's result, after whatever the test framework printed.
func lastLine(out []byte) []byte {
	lines := bytes.Split(out, []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		if bytes.HasPrefix(lines[i], []byte("{")) {
			return lines[i]
		}
	}
	return nil
}

// TestLoadGenerator is the split benchmark's child; it does nothing unless
// started by BenchmarkDecisionHTTPS with POSTERN_BENCH_SPLIT set.
func TestLoadGenerator(t *testing.T) {
	base := os.Getenv("POSTERN_LOADGEN_BASE")
	if base == "" {
		t.Skip("run by BenchmarkDecisionHTTPS with POSTERN_BENCH_SPLIT=1")
	}
	raw, err := os.ReadFile(os.Getenv("POSTERN_LOADGEN_CA"))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(raw)
	if blk == nil {
		t.Fatal("no PEM in the CA file")
	}
	ca, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(os.Getenv("POSTERN_LOADGEN_N"))
	g := newLoadGen(ca, base, os.Getenv("POSTERN_LOADGEN_KEY"), envInt("POSTERN_BENCH_CONNS", 32), envInt("POSTERN_BENCH_DEVICES", 1000))
	res := loadResult{}
	if err := g.warmUp(); err != nil {
		res.Err = err.Error()
	} else {
		res = g.run(n)
	}
	out, _ := json.Marshal(res)
	fmt.Printf("\n%s\n", out)
}
