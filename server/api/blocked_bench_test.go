package api

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/internal/cputime"
	"github.com/postern-dev/postern/server/ca"
	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/store"
)

// blockedFleet enrolls n devices with real certificates, each failing
// the firewall control, and returns the handler (wired as serve wires
// it, trusting 127.0.0.0/8 as a proxy), the X-Client-Cert header of each
// device as nginx sends it, and the server's certificate.
func blockedFleet(b *testing.B, n int) (http.Handler, []string, *ca.CA, tls.Certificate) {
	ctx := context.Background()
	dir := b.TempDir()
	st, err := store.OpenSQLite(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	now := time.Now()
	authority, err := ca.LoadOrCreate(dir, now)
	if err != nil {
		b.Fatal(err)
	}
	r := checks.Report{CollectedAt: now}
	for _, id := range checks.AllControlIDs {
		facts := `{"ok":true}`
		if id == checks.Firewall || id == checks.DiskEncryption {
			facts = `{"ok":false,"say":"off <b>on this laptop</b>"}`
		}
		r.Observations = append(r.Observations, checks.Observation{ID: id, Facts: json.RawMessage(facts)})
	}
	body, _ := json.Marshal(r)
	headers := make([]string, n)
	for i := range n {
		id := fmt.Sprintf("dev-%05d", i)
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		csr, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
		cert, err := authority.SignCSR(csr, id, now, now.Add(ca.DeviceLifetime))
		if err != nil {
			b.Fatal(err)
		}
		_, tok, _ := store.NewEnrollToken(authority.Pin(), time.Hour, "", "", now)
		st.CreateToken(ctx, tok)
		if _, err := st.Enroll(ctx, tok.Hash, store.Device{ID: id, CertSHA256: ca.Fingerprint(cert.Raw), CertNotAfter: cert.NotAfter}, now); err != nil {
			b.Fatal(err)
		}
		if _, err := st.IngestReport(ctx, store.Ingest{Info: checks.Device{Hostname: "laptop-" + id},
			Report: store.Report{DeviceID: id, Sequence: 1, Hash: "h", CollectedAt: now, ReceivedAt: now, Body: body}}); err != nil {
			b.Fatal(err)
		}
		headers[i] = nginxEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})))
	}
	srvCert, err := authority.ServerCertificate(dir, nil, now)
	if err != nil {
		b.Fatal(err)
	}
	postures := decision.NewPostureCache(decision.DefaultPostureTTL)
	h := benchHandler(b, decision.ForgetOnWrite(st, postures), postures, func(c *Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	return h, headers, authority, srvCert
}

// BenchmarkBlockedPath measures what a blocked device costs Postern: the
// gateway's /v1/authz (403) and then /v1/blocked (the HTML block page),
// as nginx asks them with error_page 403. In process, one core at a time
// with -cpu 1, for each step and for the pair ("view"); the HTTPS
// sub-benchmark runs both over loopback with keep-alive from
// POSTERN_BENCH_CONNS connections (default 16) across
// POSTERN_BENCH_DEVICES blocked devices (default 1000).
func BenchmarkBlockedPath(b *testing.B) {
	devices := envInt("POSTERN_BENCH_DEVICES", 1000)
	h, headers, authority, srvCert := blockedFleet(b, devices)
	ask := func(path, hdr string) int {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.RemoteAddr = "127.0.0.1:40000"
		req.Header.Set("X-Client-Cert", hdr)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	for i := range headers { // warm the caches, check the answers
		if c := ask("/v1/authz", headers[i]); c != 403 {
			b.Fatalf("authz for a blocked device: %d", c)
		}
		if c := ask("/v1/blocked", headers[i]); c != 403 {
			b.Fatalf("block page: %d", c)
		}
	}
	for _, step := range []struct{ name, path string }{{"authz", "/v1/authz"}, {"page", "/v1/blocked"}} {
		b.Run(step.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0, n := cputime.Process(), 0
			for i := 0; b.Loop(); i++ {
				ask(step.path, headers[i%len(headers)])
				n++
			}
			reportCPU(b, cputime.Process()-cpu0, n)
		})
	}
	b.Run("view", func(b *testing.B) {
		b.ReportAllocs()
		cpu0, n := cputime.Process(), 0
		for i := 0; b.Loop(); i++ {
			hdr := headers[i%len(headers)]
			ask("/v1/authz", hdr)
			ask("/v1/blocked", hdr)
			n++
		}
		reportCPU(b, cputime.Process()-cpu0, n)
	})
	b.Run("https", func(b *testing.B) {
		benchBlockedHTTPS(b, h, headers, authority, srvCert, envInt("POSTERN_BENCH_CONNS", 16))
	})
}

// reportCPU reports the process's CPU time per operation: on a shared
// machine wall-clock time per operation mostly measures the neighbours.
func reportCPU(b *testing.B, cpu time.Duration, n int) {
	if cpu > 0 && n > 0 {
		b.ReportMetric(float64((cpu/time.Duration(n)).Nanoseconds())/1000, "cpu_us/op")
	}
}

func benchBlockedHTTPS(b *testing.B, h http.Handler, headers []string, authority *ca.CA, cert tls.Certificate, conns int) {
	srv := NewServer("127.0.0.1:0", h, cert, discardLogger())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.ServeTLS(ln, "", "")
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(authority.Certificate())
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
	base := "https://" + ln.Addr().String()
	get := func(path, hdr string) (int, error) {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("X-Client-Cert", hdr)
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	view := func(i int) (time.Duration, error) {
		hdr := headers[i%len(headers)]
		start := time.Now()
		for _, p := range []string{"/v1/authz", "/v1/blocked"} {
			if code, err := get(p, hdr); err != nil || code != 403 {
				return 0, fmt.Errorf("%s: %d %v", p, code, err)
			}
		}
		return time.Since(start), nil
	}
	for i := range conns * 4 {
		if _, err := view(i); err != nil {
			b.Fatal(err)
		}
	}
	lat := make([][]time.Duration, conns)
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	b.ResetTimer()
	start, cpu0 := time.Now(), cputime.Process()
	for w := range conns {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				took, err := view(int(i))
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
	b.StopTimer()
	if msg, ok := failed.Load().(string); ok {
		b.Fatal(msg)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	pct := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "views/s")
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
	if cpu > 0 {
		per := cpu / time.Duration(len(all))
		b.ReportMetric(float64(per.Microseconds()), "cpu_us/view")
	}
}
