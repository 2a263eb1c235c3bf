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
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/internal/fixtext"
	"github.com/postern-dev/postern/server/ca"
	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/store"
)

// enrollAs adds device id named hostname to f's store and returns its
// certificate as nginx forwards it.
func (f *fixture) enrollAs(t *testing.T, id, hostname string) string {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	cert, err := f.ca.SignCSR(csr, id, t0, t0.Add(ca.DeviceLifetime))
	if err != nil {
		t.Fatal(err)
	}
	_, tok, _ := store.NewEnrollToken(f.ca.Pin(), time.Hour, "", "", t0)
	ctx := context.Background()
	if err := f.store.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	dev := store.Device{ID: id, CertSHA256: ca.Fingerprint(cert.Raw), CertNotAfter: cert.NotAfter, Info: checks.Device{Hostname: hostname}}
	if _, err := f.store.Enroll(ctx, tok.Hash, dev, t0); err != nil {
		t.Fatal(err)
	}
	return nginxEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})))
}

// reportFacts stores a report for id in which the controls in fail fail
// with the given summary (empty for the default one); the others pass.
func (f *fixture) reportFacts(t *testing.T, id, hostname string, at time.Time, fail map[checks.ControlID]string) {
	t.Helper()
	r := checks.Report{CollectedAt: at}
	for _, c := range checks.AllControlIDs {
		facts := `{"ok":true}`
		if say, bad := fail[c]; bad {
			b, _ := json.Marshal(map[string]any{"ok": false, "say": say})
			facts = string(b)
		}
		r.Observations = append(r.Observations, checks.Observation{ID: c, Facts: json.RawMessage(facts)})
	}
	body, _ := json.Marshal(r)
	f.seq++
	_, err := f.store.IngestReport(context.Background(), store.Ingest{Info: checks.Device{Hostname: hostname},
		Report: store.Report{DeviceID: id, Sequence: f.seq, Hash: fmt.Sprint(f.seq), CollectedAt: at, ReceivedAt: at, Body: body}})
	if err != nil {
		t.Fatal(err)
	}
}

const hostileName = `<script>alert("name")</script>`

func TestBlockPage(t *testing.T) {
	pol := checks.DefaultPolicy()
	pol.Controls[checks.ScreenLock] = &checks.ControlPolicy{Enforcement: checks.EnforceWarnThenBlock, Grace: 72 * time.Hour}
	f := newFixturePolicy(t, "", pol, nil)
	blocked := f.enrollAs(t, "dev-blocked", hostileName)
	other := f.enrollAs(t, "dev-other", "reception-laptop-7")
	f.reportFacts(t, "dev-blocked", hostileName, t0, map[checks.ControlID]string{
		checks.Firewall:   `<img src=x onerror=alert(1)> firewall off`,
		checks.ScreenLock: "locks after 45 minutes",
	})
	f.reportFacts(t, "dev-other", "reception-laptop-7", t0, map[checks.ControlID]string{checks.DiskEncryption: "secret-other-device-finding"})
	f.report(t, t0, true)
	allowed := nginxEscape(string(f.certPEM))
	unknown := f.unknownCert(t)

	tests := []struct {
		name     string
		cert     string
		remote   string
		status   int
		want     []string
		wantNone []string
	}{
		{"a blocked device sees its name, each failing control's title and fix, and how to re-check", blocked, "10.0.0.1:1", 403,
			[]string{"This device may not open the EHR right now", "&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;", checks.Firewall.Title(),
				"&lt;img src=x onerror=alert(1)&gt; firewall off", "How to fix:</b> make it ok", "postern-agent check", "dev-blocked"},
			[]string{hostileName, "<img src=x", "control_failed", "firewall:"}},
		{"a warning within its grace period is listed apart with the time it starts to block", blocked, "10.0.0.1:1", 403,
			[]string{"Not blocking yet", checks.ScreenLock.Title(), "locks after 45 minutes", "Only a warning until</b> Tuesday 4 March 2025, 12:00 UTC"}, nil},
		{"the page tells nothing about other devices", blocked, "10.0.0.1:1", 403, nil,
			[]string{"reception-laptop-7", "dev-other", "secret-other-device-finding", checks.DiskEncryption.Title()}},
		{"another device's page is its own", other, "10.0.0.1:1", 403, []string{"reception-laptop-7", checks.DiskEncryption.Title()},
			[]string{"dev-blocked", "firewall off", "alert("}},
		{"an allowed device is told it may go back", allowed, "10.0.0.1:1", 200, []string{"This device may open the EHR now"}, []string{"What to fix"}},
		{"an unknown certificate says the device could not be verified", unknown, "10.0.0.1:1", 403,
			[]string{"Your device could not be verified"}, []string{"dev-", "What to fix"}},
		{"no certificate says the device could not be verified", "", "10.0.0.1:1", 401, []string{"Your device could not be verified"}, nil},
		{"a certificate from outside the trusted proxies gets no device's page", blocked, "192.0.2.9:1", 401,
			[]string{"Your device could not be verified"}, []string{"dev-blocked", "script"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tt.cert != "" {
				hdr["X-Client-Cert"] = tt.cert
			}
			rec := f.get("/v1/blocked", hdr, tt.remote)
			body := rec.Body.String()
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d:\n%s", rec.Code, tt.status, body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") {
				t.Errorf("Content-Security-Policy %q, want default-src 'none' and no unsafe-inline", csp)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q:\n%s", w, body)
				}
			}
			for _, w := range tt.wantNone {
				if strings.Contains(body, w) {
					t.Errorf("page holds %q:\n%s", w, body)
				}
			}
		})
	}
}

func TestBlockPageStyleIsAllowedByItsHash(t *testing.T) {
	if !strings.Contains(blockedCSP, "'sha256-") {
		t.Fatalf("CSP %q has no style hash", blockedCSP)
	}
	if strings.Contains(blockedHTML[strings.Index(blockedHTML, "<style>"):strings.Index(blockedHTML, "</style>")], "{{") {
		t.Fatal("the <style> element holds a template action, so its hash would not match what is served")
	}
}

// unknownCert returns a certificate from the same CA that no device holds.
func (f *fixture) unknownCert(t *testing.T) string {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	cert, err := f.ca.SignCSR(csr, "dev-never-enrolled", t0, t0.Add(ca.DeviceLifetime))
	if err != nil {
		t.Fatal(err)
	}
	return nginxEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})))
}

func TestBlockPageTextParts(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []fixtext.Part
	}{
		{"plain text stays one run", "turn it on", []fixtext.Part{{Text: "turn it on"}}},
		{"a quoted command becomes code", "run `sudo ufw enable` then check", []fixtext.Part{{Text: "run "}, {Text: "sudo ufw enable", Code: true}, {Text: " then check"}}},
		{"an unmatched backtick is dropped", "it's `odd", []fixtext.Part{{Text: "it's odd"}}},
		{"nothing gives nothing", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, fixtext.Parts(tt.in)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("code from an agent is escaped too", func(t *testing.T) {
		f := newFixture(t)
		hdr := f.enrollAs(t, "dev-code", "laptop")
		f.reportFacts(t, "dev-code", "laptop", t0, map[checks.ControlID]string{checks.Firewall: "found `<script>x()</script>` running"})
		body := f.get("/v1/blocked", map[string]string{"X-Client-Cert": hdr}, "10.0.0.1:1").Body.String()
		if !strings.Contains(body, "<code>&lt;script&gt;x()&lt;/script&gt;</code>") || strings.Contains(body, "<script>x()") {
			t.Errorf("page:\n%s", body)
		}
	})
}

func TestBlockPageItemsWithoutAControl(t *testing.T) {
	until := time.Date(2026, 1, 5, 9, 30, 0, 0, time.UTC)
	got := items([]decision.Reason{
		{Code: decision.CodeDeviceKeySoftware, Message: "the device key is not attested", Remediation: "Enroll again", Until: until},
		{Code: "some_future_code", Message: "m"},
	})
	want := []pageItem{
		{Title: "Hardware-bound device key", Until: "Monday 5 January 2026, 09:30 UTC",
			Found: []fixtext.Part{{Text: "the device key is not attested"}}, Fix: []fixtext.Part{{Text: "Enroll again"}}},
		{Title: "Access condition not met", Found: []fixtext.Part{{Text: "m"}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
