package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/metrics"
)

func TestDecisionForAUser(t *testing.T) {
	tests := []struct {
		name      string
		owner     string
		query     string
		fails     bool
		wantAllow bool
		wantCodes []string
	}{
		{"the owner is allowed", "alice@dmh.example", "&user=alice@dmh.example", false, true, nil},
		{"the owner's name matches whatever its case", "alice@dmh.example", "&user=Alice@DMH.example", false, true, nil},
		{"another user is denied on an otherwise compliant device", "alice@dmh.example", "&user=bob@dmh.example", false, false, []string{CodeOtherUser}},
		{"another user on a failing device gets both reasons", "alice@dmh.example", "&user=bob@dmh.example", true, false, []string{decision.CodeControlFailed, CodeOtherUser}},
		{"a device without an owner is not checked", "", "&user=bob@dmh.example", false, true, nil},
		{"a request without a user is not checked", "alice@dmh.example", "", false, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixtureWith(t, tt.owner, nil)
			f.report(t, t0, !tt.fails)
			rec := f.get("/v1/decision?device_id=dev"+tt.query, map[string]string{"Authorization": "Bearer " + f.key}, "")
			d := decode(t, rec)
			var codes []string
			for _, r := range d.Reasons {
				codes = append(codes, r.Code)
			}
			if d.Allow != tt.wantAllow {
				t.Errorf("allow = %v, want %v", d.Allow, tt.wantAllow)
			}
			if diff := cmp.Diff(tt.wantCodes, codes); diff != "" {
				t.Errorf("reason codes (-want +got):\n%s", diff)
			}
			if !d.Allow && d.ValidUntil.Sub(d.EvaluatedAt) != decision.DenyTTL {
				t.Errorf("a deny is valid for %v, want %v", d.ValidUntil.Sub(d.EvaluatedAt), decision.DenyTTL)
			}
			for _, r := range d.Reasons {
				if r.Message == "" || r.Remediation == "" {
					t.Errorf("reason %s lacks a message or a fix", r.Code)
				}
			}
		})
	}
}

func TestAuthzForGateways(t *testing.T) {
	var logs bytes.Buffer
	f := newFixtureWith(t, "alice", func(c *Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	f.report(t, t0, true)
	der := mustDER(t, f.certPEM)
	nginx := nginxEscape(string(f.certPEM))
	caddy := base64.StdEncoding.EncodeToString(der)
	tests := []struct {
		name       string
		method     string
		path       string
		hdr        map[string]string
		remote     string
		status     int
		wantDevice string
		wantReason string
	}{
		{"nginx's fully escaped certificate is allowed and the device named", "GET", "/v1/authz", map[string]string{"X-Client-Cert": nginx}, "10.0.0.1:1", 200, "dev", ""},
		{"Caddy's base64 DER certificate is allowed", "GET", "/v1/authz", map[string]string{"X-Client-Cert": caddy}, "10.0.0.1:1", 200, "dev", ""},
		{"Envoy's original method and path are answered", "POST", "/v1/authz/ehr/session", map[string]string{"X-Forwarded-Client-Cert": "Hash=" + strings.Repeat("0", 64) + `,By=x;Cert="` + nginx + `"`}, "10.0.0.1:1", 200, "dev", ""},
		{"the owner named by the proxy is allowed", "GET", "/v1/authz", map[string]string{"X-Client-Cert": caddy, "X-Postern-User": "alice"}, "10.0.0.1:1", 200, "dev", ""},
		{"another user named by the proxy is forbidden", "GET", "/v1/authz", map[string]string{"X-Client-Cert": caddy, "X-Postern-User": "mallory"}, "10.0.0.1:1", 403, "dev", CodeOtherUser},
		{"a control character in the user is a bad request", "GET", "/v1/authz", map[string]string{"X-Client-Cert": caddy, "X-Postern-User": "a\x01"}, "10.0.0.1:1", 400, "", ""},
		{"a truncated base64 certificate is unauthorized", "GET", "/v1/authz", map[string]string{"X-Client-Cert": caddy[:40]}, "10.0.0.1:1", 401, "", ""},
		{"a spoofed certificate from an IPv6 address outside the proxies is unauthorized", "GET", "/v1/authz", map[string]string{"X-Client-Cert": caddy}, "[2001:db8::1]:443", 401, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newRequest(tt.method, tt.path, tt.hdr, tt.remote)
			rec := serve(f.h, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if got := rec.Header().Get("X-Postern-Device"); got != tt.wantDevice {
				t.Errorf("X-Postern-Device %q, want %q", got, tt.wantDevice)
			}
			if got := rec.Header().Get("X-Postern-Reason"); got != tt.wantReason {
				t.Errorf("X-Postern-Reason %q, want %q", got, tt.wantReason)
			}
			if rec.Body.Len() != 0 || rec.Header().Get("Content-Length") != "0" {
				t.Errorf("body %q with Content-Length %q, want none and 0", rec.Body, rec.Header().Get("Content-Length"))
			}
			if tt.status != 200 && tt.status != 403 && rec.Header().Get("X-Postern-Error") == "" {
				t.Error("no X-Postern-Error says why")
			}
		})
	}
	t.Run("a failing device names every failing control in the reason header", func(t *testing.T) {
		f.report(t, t0, false)
		rec := serve(f.h, newRequest("GET", "/v1/authz", map[string]string{"X-Client-Cert": caddy, "X-Postern-User": "bob"}, "10.0.0.1:1"))
		want := "control_failed:firewall, " + CodeOtherUser
		if rec.Code != 403 || rec.Header().Get("X-Postern-Reason") != want {
			t.Errorf("status %d reason %q, want 403 %q", rec.Code, rec.Header().Get("X-Postern-Reason"), want)
		}
	})
	t.Run("the spoofing attempt was logged with the address", func(t *testing.T) {
		var found bool
		for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			var m map[string]any
			json.Unmarshal([]byte(line), &m)
			if m["msg"] == "authz from untrusted address" && m["remote"] == "[2001:db8::1]:443" && m["forwarded_cert"] == true {
				found = true
			}
		}
		if !found {
			t.Errorf("no warning with remote and forwarded_cert in the log:\n%s", logs.String())
		}
		if strings.Contains(logs.String(), caddy[:32]) {
			t.Error("the log holds the forwarded certificate")
		}
	})
}

// nginxEscape escapes like nginx's $ssl_client_escaped_cert: every byte
// but unreserved characters.
func nginxEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
	}
	return b.String()
}

func TestNginxEscapeMatchesTheDecoder(t *testing.T) {
	got, err := url.PathUnescape(nginxEscape("a+b/c d\n"))
	if err != nil || got != "a+b/c d\n" {
		t.Errorf("round trip = %q, %v", got, err)
	}
}

func TestReadyz(t *testing.T) {
	tests := []struct {
		name   string
		ready  func(ctxErr error) error
		status int
		body   string
	}{
		{"a ready server answers 200", func(error) error { return nil }, 200, "ready\n"},
		{"a server whose database is down answers 503 without the cause", func(error) error { return errTest }, 503,
			`{"error":"not ready","reason":"unknown (see the server's log)"}` + "\n"},
		{"a server that cannot commit says why, and not the driver's words", func(error) error {
			return fmt.Errorf("check: %w", &NotReady{Reason: "database cannot commit: disk full", Err: errors.New("/var/lib/x: no space left")})
		}, 503, `{"error":"not ready","reason":"database cannot commit: disk full"}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixtureWith(t, "", func(c *Config) {
				c.Ready = func(ctx context.Context) error { return tt.ready(ctx.Err()) }
			})
			rec := f.get("/readyz", nil, "")
			if rec.Code != tt.status || rec.Body.String() != tt.body {
				t.Errorf("status %d, body %q; want %d, %q", rec.Code, rec.Body.String(), tt.status, tt.body)
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	m := metrics.New()
	f := newFixtureWith(t, "", func(c *Config) { c.Metrics = m })
	f.report(t, t0, false)
	auth := map[string]string{"Authorization": "Bearer " + f.key}
	f.get("/v1/decision?device_id=dev", auth, "")
	f.get("/v1/decision?device_id=ghost", auth, "")
	t.Run("metrics need the API key", func(t *testing.T) {
		if rec := f.get("/metrics", nil, ""); rec.Code != http.StatusUnauthorized {
			t.Errorf("status %d, want 401", rec.Code)
		}
	})
	t.Run("decisions are counted by result and reason", func(t *testing.T) {
		rec := f.get("/metrics", auth, "")
		body := rec.Body.String()
		for _, want := range []string{
			`postern_decisions_total{endpoint="decision",result="deny"} 2`,
			`postern_deny_reasons_total{control="firewall",reason="control_failed"} 1`,
			`postern_deny_reasons_total{control="",reason="device_unknown"} 1`,
			`postern_decision_duration_seconds_count{endpoint="decision"} 2`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
}

var errTest = &testError{}

type testError struct{}

func (*testError) Error() string { return "test error" }

// fakeDecider allows every device and records the users it was asked for.
type fakeDecider struct{ users []string }

func (f *fakeDecider) Decide(_ context.Context, l decision.Lookup, user string) (decision.Decision, error) {
	f.users = append(f.users, user)
	return decision.Decision{Allow: true, DeviceID: l.DeviceID, Reasons: []decision.Reason{}, EvaluatedAt: t0, ValidUntil: t0.Add(time.Minute)}, nil
}

func TestDecisionWithADecider(t *testing.T) {
	dec := &fakeDecider{}
	f := newFixtureWith(t, "alice", func(c *Config) { c.Decider = dec })
	auth := map[string]string{"Authorization": "Bearer " + f.key}
	t.Run("the decider decides for the device alone and the user check still applies", func(t *testing.T) {
		d := decode(t, f.get("/v1/decision?device_id=dev&user=bob", auth, ""))
		if d.Allow || len(d.Reasons) != 1 || d.Reasons[0].Code != CodeOtherUser || d.User != "bob" {
			t.Errorf("got %+v, want a deny for another user", d)
		}
		if diff := cmp.Diff([]string{""}, dec.users); diff != "" {
			t.Errorf("users asked (-want +got):\n%s", diff)
		}
	})
	t.Run("the owner is allowed", func(t *testing.T) {
		if d := decode(t, f.get("/v1/decision?device_id=dev&user=alice", auth, "")); !d.Allow {
			t.Errorf("got %+v", d)
		}
	})
}
