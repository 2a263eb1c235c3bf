package agreement

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/internal/testserver"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/dashboard/dashtest"
	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/exceptions"
	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

// now is the server's clock: the fixtures' time, so that their ages read
// as they did when recorded.
var now = dashtest.Now

// policyYAML blocks on the firewall, gives the screen lock a grace
// period, requires a yearly attestation with a week's grace, and lets
// the "lenient" organization's unknown controls pass.
const policyYAML = `max_report_age: 15m
unknown: deny
controls:
  firewall:
    enforcement: block
  screen_lock:
    enforcement: warn_then_block
    grace: 72h
attestation:
  required: true
  max_age: 8760h
  grace: 168h
profiles:
  lenient:
    unknown: allow
`

// state is one device of the table: how it is seeded and the standing
// the decision must give it.
type state struct {
	name   string
	dev    dashtest.Device
	attest time.Duration // how long ago its user attested; 0: never
	waive  checks.ControlID
	want   decision.Access
	// code is a reason (deny) or warning (allow) the decision must carry.
	code string
	// damaged replaces the device's stored report by one that does not
	// decode.
	damaged bool
}

func states() []state {
	fresh := 5 * time.Minute
	d := func(id, org string, age time.Duration) dashtest.Device {
		return dashtest.Device{ID: id, Hostname: id + "-host", Org: org, Owner: "alex.kim", OS: "linux",
			OSName: "Debian GNU/Linux 12", OSVersion: "12.12", Age: age, Compliant: true}
	}
	with := func(dev dashtest.Device, f func(*dashtest.Device)) dashtest.Device { f(&dev); return dev }
	year := 365 * 24 * time.Hour
	return []state{
		{name: "a compliant device is allowed", dev: d("dev_compliant", "strict", fresh), attest: 24 * time.Hour,
			want: decision.AccessAllowed},
		{name: "a device failing a blocking control is blocked", dev: with(d("dev_failing", "strict", fresh), func(x *dashtest.Device) {
			x.Failing = []checks.ControlID{checks.Firewall}
		}), attest: 24 * time.Hour, want: decision.AccessBlocked, code: decision.CodeControlFailed},
		{name: "a failing control waived by an exception is allowed by exception", dev: with(d("dev_waived", "strict", fresh), func(x *dashtest.Device) {
			x.Failing = []checks.ControlID{checks.Firewall}
		}), attest: 24 * time.Hour, waive: checks.Firewall, want: decision.AccessException, code: decision.CodeExceptionApplied},
		{name: "a control failing within its grace period is warned", dev: with(d("dev_grace", "strict", fresh), func(x *dashtest.Device) {
			x.Failing = []checks.ControlID{checks.ScreenLock}
		}), attest: 24 * time.Hour, want: decision.AccessWarned, code: decision.CodeControlFailed},
		{name: "a device whose last report is too old is blocked", dev: d("dev_stale", "strict", 2*time.Hour), attest: 24 * time.Hour,
			want: decision.AccessBlocked, code: decision.CodeReportStale},
		{name: "a device silent for more than 90 days is blocked", dev: d("dev_inactive", "strict", 100*24*time.Hour), attest: 24 * time.Hour,
			want: decision.AccessBlocked, code: decision.CodeDeviceInactive},
		{name: "a revoked device is blocked", dev: with(d("dev_revoked", "strict", fresh), func(x *dashtest.Device) { x.Revoked = true }),
			attest: 24 * time.Hour, want: decision.AccessBlocked, code: decision.CodeDeviceRevoked},
		{name: "a new device without an attestation is warned until the grace ends", dev: d("dev_attest_due", "strict", fresh),
			want: decision.AccessWarned, code: decision.CodeAttestationDue},
		{name: "a device never attested past the grace is blocked", dev: with(d("dev_attest_missing", "strict", fresh), func(x *dashtest.Device) {
			x.EnrolledAgo = 30 * 24 * time.Hour
		}), want: decision.AccessBlocked, code: decision.CodeAttestationMissing},
		{name: "a device whose attestation expired is judged as never attested", dev: with(d("dev_attest_expired", "strict", fresh), func(x *dashtest.Device) {
			x.EnrolledAgo = 2 * year
		}), attest: year + 30*24*time.Hour, want: decision.AccessBlocked, code: decision.CodeAttestationMissing},
		{name: "an unknown control blocks under unknown: deny", dev: with(d("dev_unknown_deny", "strict", fresh), func(x *dashtest.Device) {
			x.Unknown = []checks.ControlID{checks.Firewall}
		}), attest: 24 * time.Hour, want: decision.AccessBlocked, code: decision.CodeControlUnknown},
		{name: "a device whose stored report cannot be read is blocked, its controls unknown", dev: d("dev_damaged", "strict", fresh),
			attest: 24 * time.Hour, damaged: true, want: decision.AccessBlocked, code: decision.CodeControlUnknown},
		{name: "an unknown control passes under unknown: allow", dev: with(d("dev_unknown_allow", "lenient", fresh), func(x *dashtest.Device) {
			x.Unknown = []checks.ControlID{checks.Firewall}
		}), attest: 24 * time.Hour, want: decision.AccessAllowed},
	}
}

const (
	adminName     = "agree.admin"
	adminPassword = "Harbor-Lights-42"
)

// certPEM returns a certificate and its SHA-256, standing for the one the
// proxy verified.
func certPEM(t *testing.T, cn string) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), hex.EncodeToString(sum[:])
}

// seed stores the table's devices, their attestations and exceptions,
// certificates and a dashboard account in the stopped server's store.
func seed(t *testing.T, dir string, ss []state) map[string]string {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pol := checks.DefaultPolicy()
	devs := make([]dashtest.Device, len(ss))
	for i, s := range ss {
		devs[i] = s.dev
	}
	if err := dashtest.Seed(ctx, st, devs, pol, now); err != nil {
		t.Fatal(err)
	}
	// The server keys its audit chain; rows appended here must be too.
	aud := audit.New(st, func() time.Time { return now }, nil)
	if err := aud.OpenKeyed(ctx, dir); err != nil {
		t.Fatal(err)
	}
	certs := map[string]string{}
	for _, s := range ss {
		c, sum := certPEM(t, s.dev.ID)
		if err := st.RenewCert(ctx, s.dev.ID, sum, now.AddDate(0, 3, 0)); err != nil {
			t.Fatal(err)
		}
		certs[s.dev.ID] = c
		if s.attest > 0 {
			at := now.Add(-s.attest)
			svc := exceptions.NewService(st, aud, func() time.Time { return at })
			if _, err := svc.Attest(ctx, s.dev.ID, "alex.kim", "2026-1", "security.team"); err != nil {
				t.Fatal(err)
			}
		}
		if s.damaged {
			at := now.Add(-time.Minute)
			if _, err := st.IngestReport(ctx, store.Ingest{Report: store.Report{DeviceID: s.dev.ID, Sequence: 2, Hash: "damaged",
				CollectedAt: at, ReceivedAt: at, Body: []byte(`{"observations": [{"id": "firewall", "fa`)}}); err != nil {
				t.Fatal(err)
			}
		}
		if s.waive != "" {
			svc := exceptions.NewService(st, aud, func() time.Time { return now })
			_, err := svc.Grant(ctx, exceptions.Grant{Scope: store.ScopeDevice, Subject: s.dev.ID, Control: s.waive,
				Reason: "replacement firewall on order", Approver: "user:security.team", StartsAt: now.Add(-time.Hour), ExpiresAt: now.Add(7 * 24 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	acc := st
	us, err := users.New(users.Config{Store: acc, Params: users.Params{Memory: 64, Time: 1, Threads: 1}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := us.Add(ctx, users.NewUser{Username: adminName, FirstName: "Agree", LastName: "Admin", Role: users.RoleApprover, Password: "Temporary-Pass1"}); err != nil {
		t.Fatal(err)
	}
	if err := us.ChangePassword(ctx, adminName, "Temporary-Pass1", adminPassword); err != nil {
		t.Fatal(err)
	}
	return certs
}

type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (b *browser) get(path string, hdr ...string) (int, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func signIn(t *testing.T, srv *testserver.Server) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := *srv.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	b := &browser{t: t, base: "https://" + srv.HTTPSAddr, c: &c}
	resp, err := c.PostForm(b.base+"/ui/login", url.Values{"username": {adminName}, "password": {adminPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/" {
		t.Fatalf("sign in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	return b
}

func hasCode(d decision.Decision, code string) bool {
	for _, r := range append(append([]decision.Reason{}, d.Reasons...), d.Warnings...) {
		if r.Code == code {
			return true
		}
	}
	return false
}

var (
	rowRE    = regexp.MustCompile(`(?s)<a class="host" href="/ui/devices/([^"]+)">.*?<span class="badge s-([a-z]+)">.*?<span class="access a-([a-z_]+)">([^<]*)</span>`)
	accessRE = regexp.MustCompile(`<p id="access">Access: <strong class="access a-([a-z_]+)">([^<]*)</strong>`)
	tileRE   = regexp.MustCompile(`(?s)<a class="tile s-([a-z]+)"[^>]*>\s*<span class="num">(\d+)</span>`)
)

func TestEverySurfaceAgreesWithTheDecisionAPI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	clock := func() time.Time { return now }
	opt := testserver.Options{Policy: policyYAML, Now: clock, TrustedProxies: []string{"127.0.0.0/8"}}
	// A first start creates the server (CA, database) and applies the
	// policy; the devices are seeded while it is stopped.
	srv := testserver.Start(t, ctx, opt)
	srv.Stop()
	ss := states()
	certs := seed(t, srv.DataDir, ss)
	opt.DataDir = srv.DataDir
	srv = testserver.Start(t, ctx, opt)
	key := srv.Cmd(t, "apikey", "create", "--name", "agreement")
	api := &browser{t: t, base: "https://" + srv.HTTPSAddr, c: srv.Client()}
	ui := signIn(t, srv)

	// The decision API is the reference.
	decided := map[string]decision.Decision{}
	for _, s := range ss {
		code, body := api.get("/v1/decision?device_id="+s.dev.ID, "Authorization", "Bearer "+key)
		if code != http.StatusOK {
			t.Fatalf("decision %s: %d %s", s.dev.ID, code, body)
		}
		var d decision.Decision
		if err := json.Unmarshal([]byte(body), &d); err != nil {
			t.Fatal(err)
		}
		decided[s.dev.ID] = d
	}

	_, listBody := ui.get("/ui/devices")
	listed := map[string][]string{}
	for _, m := range rowRE.FindAllStringSubmatch(listBody, -1) {
		listed[m[1]] = m[2:]
	}
	// Sorted by status, the list is built from the engine's fleet in
	// memory; otherwise the store pages it: both must agree.
	_, byStatusBody := ui.get("/ui/devices?sort=status")
	listedByStatus := map[string][]string{}
	for _, m := range rowRE.FindAllStringSubmatch(byStatusBody, -1) {
		listedByStatus[m[1]] = m[2:]
	}
	_, csvBody := ui.get("/ui/devices.csv")
	recs, err := csv.NewReader(strings.NewReader(csvBody)).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("csv: %v (%d records)", err, len(recs))
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	exported := map[string][]string{}
	for _, r := range recs[1:] {
		exported[r[col["device_id"]]] = r
	}
	var cliList []struct {
		ID     string `json:"id"`
		State  string `json:"state"`
		Allow  bool   `json:"allow"`
		Access string `json:"access"`
	}
	if err := json.Unmarshal([]byte(srv.CmdAt(t, clock, "device", "list", "--json")), &cliList); err != nil {
		t.Fatal(err)
	}
	cliByID := map[string]int{}
	for i, c := range cliList {
		cliByID[c.ID] = i
	}

	for _, s := range ss {
		id := s.dev.ID
		d := decided[id]
		st := decision.AccessOf(d)
		t.Run(s.name, func(t *testing.T) {
			if st.Access != s.want || (s.code != "" && !hasCode(d, s.code)) {
				t.Fatalf("decision API: %s with %+v %+v, want %s with %s", st.Access, d.Reasons, d.Warnings, s.want, s.code)
			}
			t.Run("/v1/authz answers the same", func(t *testing.T) {
				code, _ := api.get("/v1/authz", "Authorization", "Bearer "+key, "X-Client-Cert", url.PathEscape(certs[id]))
				if want := map[bool]int{true: http.StatusOK, false: http.StatusForbidden}[d.Allow]; code != want {
					t.Errorf("authz %d, want %d", code, want)
				}
			})
			t.Run("the device page shows the same decision and access", func(t *testing.T) {
				_, body := ui.get("/ui/devices/" + id)
				want := map[bool]string{true: ">Allowed</span></h2>", false: ">Denied</span></h2>"}[d.Allow]
				if !strings.Contains(body, want) {
					t.Errorf("device page lacks %q", want)
				}
				m := accessRE.FindStringSubmatch(body)
				if m == nil || m[1] != string(st.Access) || m[2] != st.Label() {
					t.Errorf("device page access %q, want %s %q", m, st.Access, st.Label())
				}
				for _, r := range d.Reasons {
					if !strings.Contains(body, htmlEscape(r.Message)) {
						t.Errorf("device page lacks reason %q", r.Message)
					}
				}
			})
			t.Run("the device list shows the same access", func(t *testing.T) {
				row, ok := listed[id]
				if !ok {
					t.Fatal("not listed")
				}
				if row[1] != string(st.Access) || row[2] != st.Label() {
					t.Errorf("list access %q %q, want %s %q", row[1], row[2], st.Access, st.Label())
				}
				if compliant := row[0] == string(store.StatusCompliant); compliant != d.Allow {
					t.Errorf("list status %s, but allow is %v", row[0], d.Allow)
				}
			})
			t.Run("the device list sorted by status shows the same access", func(t *testing.T) {
				row, ok := listedByStatus[id]
				if !ok {
					t.Fatal("not listed")
				}
				if row[1] != string(st.Access) || row[2] != st.Label() {
					t.Errorf("list access %q %q, want %s %q", row[1], row[2], st.Access, st.Label())
				}
			})
			t.Run("the CSV export has the same access", func(t *testing.T) {
				r, ok := exported[id]
				if !ok {
					t.Fatal("not exported")
				}
				if r[col["access"]] != string(st.Access) {
					t.Errorf("csv access %q, want %s", r[col["access"]], st.Access)
				}
				wantDeadline := ""
				if !st.Deadline.IsZero() {
					wantDeadline = st.Deadline.UTC().Format(time.RFC3339)
				}
				if r[col["access_deadline"]] != wantDeadline {
					t.Errorf("csv deadline %q, want %q", r[col["access_deadline"]], wantDeadline)
				}
				if revoked := r[col["status"]] == string(store.StatusRevoked); revoked != hasCode(d, decision.CodeDeviceRevoked) {
					t.Errorf("csv status %s for a device revoked=%v", r[col["status"]], !revoked)
				}
			})
			t.Run("the command line's device show has the same decision", func(t *testing.T) {
				var got struct {
					Allow  bool   `json:"allow"`
					Access string `json:"access"`
				}
				if err := json.Unmarshal([]byte(srv.CmdAt(t, clock, "device", "show", id, "--json")), &got); err != nil {
					t.Fatal(err)
				}
				if got.Allow != d.Allow || got.Access != string(st.Access) {
					t.Errorf("device show allow %v access %s, want %v %s", got.Allow, got.Access, d.Allow, st.Access)
				}
			})
			t.Run("the command line's device list has the same decision", func(t *testing.T) {
				i, ok := cliByID[id]
				if !ok {
					t.Fatal("not listed")
				}
				if c := cliList[i]; c.Allow != d.Allow || c.Access != string(st.Access) {
					t.Errorf("cli allow %v access %s, want %v %s", c.Allow, c.Access, d.Allow, st.Access)
				}
			})
		})
	}

	t.Run("the overview counts the allowed devices as compliant", func(t *testing.T) {
		_, body := ui.get("/ui/")
		tiles := map[string]int{}
		for _, m := range tileRE.FindAllStringSubmatch(body, -1) {
			tiles[m[1]], _ = strconv.Atoi(m[2])
		}
		allowed := 0
		for _, d := range decided {
			if d.Allow {
				allowed++
			}
		}
		if tiles[string(store.StatusCompliant)] != allowed {
			t.Errorf("overview: %d compliant, the decision API allows %d (tiles %v)", tiles[string(store.StatusCompliant)], allowed, tiles)
		}
	})

	t.Run("the overview's bars per control count the decisions' failing and unknown controls apart", func(t *testing.T) {
		_, body := ui.get("/ui/")
		for _, id := range checks.AllControlIDs {
			failing, unknown := 0, 0
			for _, d := range decided {
				f, u := false, false
				for _, r := range append(append([]decision.Reason{}, d.Reasons...), d.Warnings...) {
					switch {
					case r.Control != string(id):
					case r.Code == decision.CodeControlFailed:
						f = true
					case r.Code == decision.CodeControlUnknown:
						u = true
					}
				}
				if f {
					failing++
				} else if u {
					unknown++
				}
			}
			want := fmt.Sprintf("%d failing", failing)
			if unknown > 0 {
				want += fmt.Sprintf(" · %d unknown", unknown)
			}
			m := regexp.MustCompile(`href="/ui/devices\?control=` + string(id) + `">(?s:.*?)<td class="num">([^<]*)</td>`).FindStringSubmatch(body)
			if m == nil || m[1] != want {
				t.Errorf("%s bar %q, want %q", id, m, want)
			}
		}
	})

	t.Run("an exception granted on the dashboard is announced on /v1/events as the decision API answers", func(t *testing.T) {
		sctx, stop := context.WithTimeout(ctx, 30*time.Second)
		defer stop()
		stream := complianceEvents(t, sctx, srv, key)
		_, page := ui.get("/ui/devices/dev_failing")
		m := csrfRE.FindStringSubmatch(page)
		if m == nil {
			t.Fatal("no form on the device page")
		}
		resp, err := ui.c.PostForm(ui.base+"/ui/devices/dev_failing/exceptions", url.Values{"csrf": {m[1]}, "control": {string(checks.Firewall)},
			"days": {"3"}, "reason": {"replacement firewall on order"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("grant: HTTP %d", resp.StatusCode)
		}
		for ev := range stream {
			if ev.DeviceID != "dev_failing" {
				continue
			}
			_, body := api.get("/v1/decision?device_id=dev_failing", "Authorization", "Bearer "+key)
			var d decision.Decision
			if err := json.Unmarshal([]byte(body), &d); err != nil {
				t.Fatal(err)
			}
			if !d.Allow || ev.CurrentStatus != "compliant" {
				t.Errorf("event says %s; the decision API allow=%v %+v", ev.CurrentStatus, d.Allow, d.Reasons)
			}
			return
		}
		t.Fatal("no compliance change of the device on the stream")
	})
}

// streamEvent is the part of a /v1/events data line the test reads.
type streamEvent struct {
	EventType     string `json:"event_type"`
	DeviceID      string `json:"device_id"`
	CurrentStatus string `json:"current_status"`
}

// complianceEvents streams /v1/events' compliance changes until ctx ends.
func complianceEvents(t *testing.T, ctx context.Context, srv *testserver.Server, key string) <-chan streamEvent {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+srv.HTTPSAddr+"/v1/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	// The test server's client times requests out; a stream has no end.
	resp, err := (&http.Client{Transport: srv.Client().Transport}).Do(req)
	if err != nil {
		t.Fatalf("events: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("events: HTTP %d", resp.StatusCode)
	}
	out := make(chan streamEvent, 16)
	go func() {
		defer resp.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var ev streamEvent
			if json.Unmarshal([]byte(data), &ev) == nil && strings.HasSuffix(ev.EventType, "device-compliance-change") {
				out <- ev
			}
		}
	}()
	return out
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}
