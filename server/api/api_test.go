package api

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/server/ca"
	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/policy"
	"github.com/postern-dev/postern/server/store"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// Facts {"ok":true} pass; anything else fails.
func init() {
	for _, id := range checks.AllControlIDs {
		checks.Register(checks.Control{ID: id, Evaluate: func(in checks.EvalInput) checks.Result {
			var f struct {
				OK  bool
				Say string // a summary chosen by the test, as an agent could
			}
			if json.Unmarshal(in.Facts, &f) != nil || !f.OK {
				if f.Say != "" {
					return checks.Result{Status: checks.StatusFail, Summary: f.Say, Remediation: "make it ok"}
				}
				return checks.Result{Status: checks.StatusFail, Summary: "not ok", Remediation: "make it ok"}
			}
			return checks.Result{Status: checks.StatusPass, Summary: "ok"}
		}})
	}
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

type fixture struct {
	h       http.Handler
	api     *api
	store   store.Store
	clock   *testClock
	key     string
	certPEM []byte
	seq     uint64
	ca      *ca.CA
}

// newFixture makes a store holding device "dev" (certificate certPEM) and
// an API key, and the handler over it.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, "", nil)
}

// newFixtureWith is newFixture with the device's owner set and the
// handler's config adjusted by edit.
func newFixtureWith(t *testing.T, owner string, edit func(*Config)) *fixture {
	t.Helper()
	return newFixturePolicy(t, owner, checks.DefaultPolicy(), edit)
}

// newFixturePolicy is newFixtureWith deciding under pol: a real decision
// engine over the fixture's store (with the config's posture cache),
// unless edit sets another Decider.
func newFixturePolicy(t *testing.T, owner string, pol *checks.Policy, edit func(*Config)) *fixture {
	t.Helper()
	dir := t.TempDir()
	st, err := store.OpenSQLite(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	authority, err := ca.LoadOrCreate(dir, t0)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	cert, err := authority.SignCSR(csr, "dev", t0, t0.Add(ca.DeviceLifetime))
	if err != nil {
		t.Fatal(err)
	}
	_, tok, _ := store.NewEnrollToken(authority.Pin(), time.Hour, "", owner, t0)
	st.CreateToken(context.Background(), tok)
	if _, err := st.Enroll(context.Background(), tok.Hash, store.Device{ID: "dev", CertSHA256: ca.Fingerprint(cert.Raw), CertNotAfter: cert.NotAfter}, t0); err != nil {
		t.Fatal(err)
	}
	plain, rec, _ := store.NewAPIKey("gateway", t0)
	if err := st.CreateAPIKey(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	clk := &testClock{t: t0}
	cfg := Config{Store: st, Now: clk.Now,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	if edit != nil {
		edit(&cfg)
	}
	if cfg.Decider == nil {
		cfg.Decider = newEngine(st, pol, cfg.Postures, clk.Now)
	}
	a := newAPI(cfg)
	h := a.handler()
	return &fixture{h: h, api: a, store: st, clock: clk, key: plain, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), ca: authority}
}

// report stores a report for "dev" collected at at, passing when ok.
func (f *fixture) report(t *testing.T, at time.Time, ok bool) {
	t.Helper()
	r := checks.Report{CollectedAt: at}
	for _, id := range checks.AllControlIDs {
		facts := `{"ok":true}`
		if !ok && id == checks.Firewall {
			facts = `{"ok":false}`
		}
		r.Observations = append(r.Observations, checks.Observation{ID: id, Facts: json.RawMessage(facts)})
	}
	body, _ := json.Marshal(r)
	f.seq++
	_, err := f.store.IngestReport(context.Background(), store.Ingest{Report: store.Report{DeviceID: "dev", Sequence: f.seq, Hash: fmt.Sprint(f.seq), CollectedAt: at, ReceivedAt: at, Body: body}})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) get(target string, hdr map[string]string, remote string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if remote != "" {
		req.RemoteAddr = remote
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

func decode(t *testing.T, rec *httptest.ResponseRecorder) decision.Decision {
	t.Helper()
	var d decision.Decision
	if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil {
		t.Fatalf("decode %q: %v", rec.Body.String(), err)
	}
	return d
}

func TestDecisionAuth(t *testing.T) {
	f := newFixture(t)
	_, other, _ := store.NewAPIKey("x", t0)
	forged, _, _ := store.NewAPIKey("forged", t0)
	tests := []struct {
		name   string
		auth   string
		status int
	}{
		{"a request without a key is unauthorized", "", http.StatusUnauthorized},
		{"a malformed key is unauthorized", "Bearer nope", http.StatusUnauthorized},
		{"an unknown key is unauthorized", "Bearer " + forged, http.StatusUnauthorized},
		{"a key with a wrong secret is unauthorized", "Bearer pk_" + other.ID + f.key[19:], http.StatusUnauthorized},
		{"a Basic credential is unauthorized", "Basic " + f.key, http.StatusUnauthorized},
		{"a valid key is served", "Bearer " + f.key, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := f.get("/v1/decision?device_id=dev", map[string]string{"Authorization": tt.auth}, "")
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status == http.StatusUnauthorized {
				if rec.Header().Get("WWW-Authenticate") == "" {
					t.Error("no WWW-Authenticate header")
				}
				if diff := cmp.Diff(`{"error":"unauthorized"}`+"\n", rec.Body.String()); diff != "" {
					t.Errorf("body leaks detail (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestDecision(t *testing.T) {
	f := newFixture(t)
	auth := map[string]string{"Authorization": "Bearer " + f.key}
	sha := ca.Fingerprint(mustDER(t, f.certPEM))
	tests := []struct {
		name      string
		setup     func()
		target    string
		status    int
		wantAllow bool
		wantCode  string
	}{
		{"a device without a report is denied", nil, "/v1/decision?device_id=dev", 200, false, decision.CodeNoReport},
		{"an unknown device is denied", nil, "/v1/decision?device_id=ghost", 200, false, decision.CodeDeviceUnknown},
		{"a fresh passing report is allowed", func() { f.report(t, t0, true) }, "/v1/decision?device_id=dev&user=alice", 200, true, ""},
		{"the device is found by certificate hash", nil, "/v1/decision?cert_sha256=" + sha, 200, true, ""},
		{"a report older than the maximum age is denied", func() { f.clock.Set(t0.Add(16 * time.Minute)) }, "/v1/decision?device_id=dev", 200, false, decision.CodeReportStale},
		{"a failing control is denied", func() { f.report(t, t0.Add(16*time.Minute), false) }, "/v1/decision?device_id=dev", 200, false, decision.CodeControlFailed},
		{"both identifiers are a bad request", nil, "/v1/decision?device_id=dev&cert_sha256=" + sha, 400, false, ""},
		{"no identifier is a bad request", nil, "/v1/decision", 400, false, ""},
		{"a short hash is a bad request", nil, "/v1/decision?cert_sha256=abcd", 400, false, ""},
		{"an overlong device ID is a bad request", nil, "/v1/decision?device_id=" + strings.Repeat("x", 65), 400, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup()
			}
			rec := f.get(tt.target, auth, "")
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status != 200 {
				return
			}
			d := decode(t, rec)
			if d.Allow != tt.wantAllow {
				t.Errorf("allow = %v: %s", d.Allow, rec.Body)
			}
			if tt.wantCode != "" && (len(d.Reasons) == 0 || d.Reasons[0].Code != tt.wantCode) {
				t.Errorf("reasons %+v, want %s", d.Reasons, tt.wantCode)
			}
		})
	}
}

func mustDER(t *testing.T, p []byte) []byte {
	b, _ := pem.Decode(p)
	if b == nil {
		t.Fatal("bad PEM")
	}
	return b.Bytes
}

func TestAuthz(t *testing.T) {
	f := newFixture(t)
	f.report(t, t0, true)
	escaped := url.QueryEscape(string(f.certPEM))
	sha := ca.Fingerprint(mustDER(t, f.certPEM))
	tests := []struct {
		name       string
		hdr        map[string]string
		remote     string
		status     int
		wantReason string
	}{
		{"nginx's escaped certificate from a trusted proxy is allowed", map[string]string{"X-Client-Cert": escaped}, "10.1.2.3:5555", 200, ""},
		{"Envoy's hash from a trusted proxy is allowed", map[string]string{"X-Forwarded-Client-Cert": `By=spiffe://x;Hash=` + sha + `;Subject="CN=dev"`}, "10.1.2.3:5555", 200, ""},
		{"Envoy's certificate from a trusted proxy is allowed", map[string]string{"X-Forwarded-Client-Cert": `Hash=` + sha[:10] + `00,Cert="` + escaped + `"`}, "10.1.2.3:5555", 200, ""},
		{"a forwarded certificate from an untrusted address is unauthorized", map[string]string{"X-Client-Cert": escaped}, "192.0.2.1:5555", 401, ""},
		{"a trusted proxy without a certificate is unauthorized", nil, "10.1.2.3:5555", 401, ""},
		{"a garbled certificate is unauthorized", map[string]string{"X-Client-Cert": "%%%"}, "10.1.2.3:5555", 401, ""},
		{"an unknown certificate is forbidden", map[string]string{"X-Forwarded-Client-Cert": "Hash=" + sha[:62] + "00"}, "10.1.2.3:5555", 403, decision.CodeDeviceUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := f.get("/v1/authz", tt.hdr, tt.remote)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if got := rec.Header().Get("X-Postern-Reason"); got != tt.wantReason {
				t.Errorf("reason %q, want %q", got, tt.wantReason)
			}
		})
	}
	t.Run("a failing device is forbidden with the control named", func(t *testing.T) {
		f.report(t, t0, false)
		rec := f.get("/v1/authz", map[string]string{"X-Client-Cert": escaped}, "10.9.9.9:1")
		if rec.Code != 403 || rec.Header().Get("X-Postern-Reason") != "control_failed:firewall" {
			t.Errorf("status %d reason %q", rec.Code, rec.Header().Get("X-Postern-Reason"))
		}
	})
}

func TestHealthz(t *testing.T) {
	f := newFixture(t)
	if rec := f.get("/healthz", nil, ""); rec.Code != 200 {
		t.Errorf("status %d", rec.Code)
	}
}

// newEngine is the decision engine the server runs, over st under pol
// (no attestation required), reading postures through pc if set.
func newEngine(st store.Store, pol *checks.Policy, pc *decision.PostureCache, now func() time.Time) *decision.Engine {
	set := &policy.Set{Version: 1, Default: &policy.Profile{Policy: pol}, Profiles: map[string]*policy.Profile{}}
	return decision.NewEngine(decision.EngineConfig{Store: st, Policies: staticSet{set}, Postures: pc, Now: now})
}
