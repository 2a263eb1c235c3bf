package gatewaytest

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/internal/testserver"
	"github.com/postern-dev/postern/server/api"
	"github.com/postern-dev/postern/server/ca"
	"github.com/postern-dev/postern/server/store"
)

// Settings of the gateway benchmarks (make bench-gateway), from the
// environment: POSTERN_BENCH_SECONDS per measured run (default 5),
// POSTERN_BENCH_CONNS client connections (default 32), POSTERN_BENCH_FLEET
// devices seeded for the decision API (default 10000).
func benchSettings() (d time.Duration, conns, fleet int) {
	return time.Duration(envInt("POSTERN_BENCH_SECONDS", 5)) * time.Second, envInt("POSTERN_BENCH_CONNS", 32), envInt("POSTERN_BENCH_FLEET", 10000)
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// rounds is how many back-to-back runs each ratio is the median of.
const rounds = 3

// BenchmarkGatewayNginx measures the gateway path as docs/gateway-nginx.md
// configures it: Debian's nginx with the documented block (auth_request
// to a real postern-server's /v1/authz, connections to it kept alive)
// against the same nginx and block with the auth_request lines taken out,
// both in front of the same small upstream, driven by the Go load
// generator over TLS with the devices' client certificates (wrk cannot
// present one). Each round runs both back to back; the ratio printed is
// the median of three rounds. Targets (issue 14): throughput >= 0.7x,
// p99 + <= 2 ms.
func BenchmarkGatewayNginx(b *testing.B) {
	bin := findNginx(b)
	d, conns, _ := benchSettings()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	srv := startServer(b, ctx)
	const devices = 4
	states := make([]string, devices)
	for i := range states {
		states[i], _ = enroll(b, ctx, srv, "linux-compliant")
	}
	dir := b.TempDir()
	certFile, keyFile, pool := gatewayCert(b, dir)
	up := upstream(b)
	block := nginxBlock(b)
	start := func(block string) int {
		port := freePort(b)
		conf := substitute(b, block, map[string]string{
			"LISTEN": fmt.Sprintf("127.0.0.1:%d", port), "SERVER_CERT": certFile, "SERVER_KEY": keyFile,
			"DEVICE_CA": srv.CAFile(), "POSTERN": srv.HTTPSAddr, "POSTERN_NAME": "localhost", "POSTERN_CA": srv.CAFile(),
			"UPSTREAM": up, "PAGES": pagesDir(b),
		})
		startNginxWith(b, ctx, bin, conf, port, 4*conns+64)
		return port
	}
	gated, open := start(block), start(withoutAuthRequest(block))
	clients := make([]*http.Client, devices)
	for i, s := range states {
		clients[i] = client(b, pool, s)
	}
	loadOn := func(port int) loadRun {
		url := fmt.Sprintf("https://localhost:%d/ehr/session", port)
		return loadRun{conns: conns, status: 200,
			client: func(i int) *http.Client {
				c := client(b, pool, states[i%devices])
				c.Transport.(*http.Transport).MaxIdleConnsPerHost = 1
				return c
			},
			request: func(int, int) *http.Request { r, _ := http.NewRequest("GET", url, nil); return r }}
	}
	b.ResetTimer()
	var ratios, extra []float64
	for r := range rounds {
		with := loadOn(gated).run(ctx, d)
		without := loadOn(open).run(ctx, d)
		for _, res := range []loadResult{with, without} {
			if res.errors > 0 || res.count == 0 {
				b.Fatalf("round %d: %d errors, first: %s", r+1, res.errors, res.firstErr)
			}
		}
		ratios = append(ratios, with.rate()/without.rate())
		extra = append(extra, ms(with.p99-without.p99))
		fmt.Printf("round %d  nginx + postern auth_request: %s\n", r+1, with)
		fmt.Printf("round %d  nginx alone:                  %s\n", r+1, without)
	}
	b.StopTimer()
	fmt.Printf("gateway (nginx auth_request / nginx alone), median of %d: throughput %.2fx (target >= 0.7x), p99 %+.2f ms (target <= +2 ms)\n",
		rounds, median(ratios), median(extra))
	b.ReportMetric(median(ratios), "throughput_ratio")
	b.ReportMetric(median(extra), "p99_added_ms")
}

// withoutAuthRequest is the documented block with the check taken out:
// the auth_request lines and the lines that use what they set.
func withoutAuthRequest(block string) string {
	var out []string
	for _, l := range strings.Split(block, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "auth_request") || strings.Contains(t, "$postern_") {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// BenchmarkDecisionAPI measures GET /v1/decision of a real postern-server
// (serve.Run, SQLite) holding POSTERN_BENCH_FLEET devices, each with a
// real-sized report (the catalog's recorded linux-compliant snapshot,
// collected and encoded as an agent sends it), against a bare Go TLS
// handler (api.NewServer, the same timeouts) returning the same bytes.
// Each round asks, back to back: the bare handler, Postern about 10 of
// the devices, and Postern about all of them in turn. Printed: the
// medians of three rounds of Postern / bare (target >= 0.8x, p99 <= 5 ms)
// and of the whole fleet / 10 devices (target within 10 %).
func BenchmarkDecisionAPI(b *testing.B) {
	d, conns, fleet := benchSettings()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	dir := b.TempDir()
	ids := seedFleet(b, ctx, dir, fleet)
	srv := testserver.Start(b, ctx, testserver.Options{Policy: policyYAML, DataDir: dir})
	key := strings.TrimSpace(srv.Cmd(b, "apikey", "create", "--name", "bench"))
	postern := func(i, n int, devices int) *http.Request {
		id := ids[(i*7919+n)%devices]
		r, _ := http.NewRequest("GET", "https://"+srv.HTTPSAddr+"/v1/decision?device_id="+id, nil)
		r.Header.Set("Authorization", "Bearer "+key)
		return r
	}
	tlsClient := func(int) *http.Client {
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1,
			TLSClientConfig: &tls.Config{RootCAs: srv.CAPool(), ServerName: "localhost"}}}
	}
	// The bare handler serves the bytes Postern answered for one device.
	resp, err := tlsClient(0).Do(postern(0, 0, 1))
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("decision: status %d: %s", resp.StatusCode, body)
	}
	bareURL := startBare(b, dir, body)
	bare := loadRun{conns: conns, status: 200, client: tlsClient,
		request: func(int, int) *http.Request { r, _ := http.NewRequest("GET", bareURL, nil); return r }}
	few := loadRun{conns: conns, status: 200, client: tlsClient, request: func(i, n int) *http.Request { return postern(i, n, min(10, fleet)) }}
	all := loadRun{conns: conns, status: 200, client: tlsClient, request: func(i, n int) *http.Request { return postern(i, n, fleet) }}

	// Steady state: every device asked about once, as gateways do all day
	// (the server's first sweep fills the same caches).
	warm := time.Now()
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() {
			c := tlsClient(i)
			for n := i; n < fleet; n += conns {
				if resp, err := c.Do(postern(0, n, fleet)); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		})
	}
	wg.Wait()
	fmt.Printf("asked about each of the %d devices once in %v\n", fleet, time.Since(warm).Round(time.Millisecond))

	b.ResetTimer()
	var vsBare, flat, p99Few, p99All, cpuBare, cpuFew, cpuAll []float64
	for r := range rounds {
		rb, rf, ra := bare.run(ctx, d), few.run(ctx, d), all.run(ctx, d)
		for _, res := range []loadResult{rb, rf, ra} {
			if res.errors > 0 || res.count == 0 {
				b.Fatalf("round %d: %d errors, first: %s", r+1, res.errors, res.firstErr)
			}
		}
		vsBare = append(vsBare, rf.rate()/rb.rate())
		cpuBare, cpuFew, cpuAll = append(cpuBare, rb.cpuPer()), append(cpuFew, rf.cpuPer()), append(cpuAll, ra.cpuPer())
		flat = append(flat, ra.rate()/rf.rate())
		p99Few, p99All = append(p99Few, ms(rf.p99)), append(p99All, ms(ra.p99))
		fmt.Printf("round %d  bare Go TLS handler, same bytes: %s\n", r+1, rb)
		fmt.Printf("round %d  postern, 10 devices:            %s\n", r+1, rf)
		fmt.Printf("round %d  postern, %5d devices:        %s\n", r+1, fleet, ra)
	}
	b.StopTimer()
	fmt.Printf("decision API, median of %d (%d-byte answer): postern/bare %.2fx (target >= 0.8x); p99 %.2f ms with 10 devices, %.2f ms with %d (target <= 5 ms); %d devices / 10 devices %.2fx (target within 10 %%)\n",
		rounds, len(body), median(vsBare), median(p99Few), median(p99All), fleet, fleet, median(flat))
	fmt.Printf("decision API CPU per request in-process (load generator included), median: bare %.1f µs, postern 10 devices %.1f µs, %d devices %.1f µs\n",
		median(cpuBare), median(cpuFew), fleet, median(cpuAll))
	b.ReportMetric(median(vsBare), "vs_bare_ratio")
	b.ReportMetric(median(flat), "fleet_ratio")
	b.ReportMetric(median(p99All), "p99_fleet_ms")
}

// startBare serves body over TLS from api.NewServer with a certificate
// of the same CA and key type as Postern's, and returns its URL.
func startBare(b *testing.B, dir string, body []byte) string {
	authority, err := ca.LoadOrCreate(dir, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	cert, err := authority.ServerCertificate(b.TempDir(), nil, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	n := strconv.Itoa(len(body))
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header()["Content-Type"] = []string{"application/json"}
		w.Header()["Content-Length"] = []string{n}
		w.Write(body)
	})
	srv := api.NewServer("127.0.0.1:0", h, cert, discard())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.ServeTLS(ln, "", "")
	b.Cleanup(func() { srv.Close() })
	return "https://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port) + "/v1/decision"
}

// seedFleet creates a server's data directory (its CA and SQLite store)
// holding n enrolled devices, each with a report collected from the
// recorded linux-compliant snapshot, and returns their IDs.
func seedFleet(b *testing.B, ctx context.Context, dir string, n int) []string {
	now := time.Now()
	authority, err := ca.LoadOrCreate(dir, now)
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.OpenSQLite(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	// Every recorded machine of the catalog in turn, each report
	// collected once: the sizes are the real ones (5-11 KB).
	var bodies [][]byte
	for _, snap := range []string{"linux-compliant", "linux-noncompliant", "windows-compliant", "windows-noncompliant", "darwin-compliant", "darwin-noncompliant"} {
		h := testserver.Snapshot(b, snap)
		body, err := json.Marshal(checks.Collect(ctx, h, checks.Device{Hostname: snap, OS: h.GOOS(), Arch: "amd64"}, now))
		if err != nil {
			b.Fatal(err)
		}
		bodies = append(bodies, body)
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("bench-%05d", i)
		body := bodies[i%len(bodies)]
		_, tok, _ := store.NewEnrollToken(authority.Pin(), time.Hour, "", "", now)
		if err := st.CreateToken(ctx, tok); err != nil {
			b.Fatal(err)
		}
		if _, err := st.Enroll(ctx, tok.Hash, store.Device{ID: ids[i], CertSHA256: fmt.Sprintf("%064x", i), CertNotAfter: now.Add(24 * time.Hour)}, now); err != nil {
			b.Fatal(err)
		}
		if _, err := st.IngestReport(ctx, store.Ingest{Report: store.Report{DeviceID: ids[i], Sequence: 1, Hash: ids[i],
			CollectedAt: now, ReceivedAt: now, Body: body}}); err != nil {
			b.Fatal(err)
		}
	}
	var sizes []string
	for _, body := range bodies {
		sizes = append(sizes, strconv.Itoa(len(body)))
	}
	fmt.Printf("seeded %d devices, reports of %s bytes in turn\n", n, strings.Join(sizes, ", "))
	return ids
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
