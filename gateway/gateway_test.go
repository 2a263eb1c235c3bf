package gateway_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/gateway"
	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/server/api"
	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/events"
	"github.com/postern-dev/postern/server/policy"
	"github.com/postern-dev/postern/server/store"
)

// Facts {"ok":true} pass; anything else fails.
func init() {
	for _, id := range checks.AllControlIDs {
		checks.Register(checks.Control{ID: id, Evaluate: func(in checks.EvalInput) checks.Result {
			var f struct{ OK bool }
			if json.Unmarshal(in.Facts, &f) != nil || !f.OK {
				return checks.Result{Status: checks.StatusFail, Summary: "not ok", Remediation: "make it ok"}
			}
			return checks.Result{Status: checks.StatusPass, Summary: "ok"}
		}})
	}
}

const certSHA = "aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11"

type env struct {
	client *gateway.Client
	bus    *events.Bus
	srv    *httptest.Server
	key    string
}

// newEnv serves the real API handler over TLS with one device "dev"
// (owned by alice) whose latest report passes unless failing is set.
func newEnv(t *testing.T, failing bool) *env {
	t.Helper()
	ctx := context.Background()
	now := clock.Now().UTC()
	st, err := store.OpenSQLite(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	_, tok, _ := store.NewEnrollToken([32]byte{}, time.Hour, "dmh", "alice", now)
	st.CreateToken(ctx, tok)
	if _, err := st.Enroll(ctx, tok.Hash, store.Device{ID: "dev", CertSHA256: certSHA, CertNotAfter: now.Add(time.Hour)}, now); err != nil {
		t.Fatal(err)
	}
	r := checks.Report{CollectedAt: now}
	for _, id := range checks.AllControlIDs {
		facts := `{"ok":true}`
		if failing && id == checks.WiFiEncryption {
			facts = `{"ok":false}`
		}
		r.Observations = append(r.Observations, checks.Observation{ID: id, Facts: json.RawMessage(facts)})
	}
	body, _ := json.Marshal(r)
	if _, err := st.IngestReport(ctx, store.Ingest{Report: store.Report{DeviceID: "dev", Sequence: 1, Hash: "h", CollectedAt: now, ReceivedAt: now, Body: body}}); err != nil {
		t.Fatal(err)
	}
	plain, rec, _ := store.NewAPIKey("gw", now)
	st.CreateAPIKey(ctx, rec)
	bus := events.NewBus(nil)
	// The server's decision engine, under the default controls without
	// a required attestation.
	set := &policy.Set{Version: 1, Default: &policy.Profile{Policy: checks.DefaultPolicy()}, Profiles: map[string]*policy.Profile{}}
	eng := decision.NewEngine(decision.EngineConfig{Store: st, Policies: fixedSet{set}})
	h := api.NewHandler(api.Config{Store: st, Decider: eng, Events: bus,
		Heartbeat: 50 * time.Millisecond, TrustedProxies: []netip.Prefix{}})
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	c, err := gateway.New(srv.URL, plain, gateway.WithRootCAs(pool), gateway.WithReconnect(10*time.Millisecond, 50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return &env{client: c, bus: bus, srv: srv, key: plain}
}

// fixedSet is a policy set that never reloads.
type fixedSet struct{ s *policy.Set }

func (f fixedSet) Current() *policy.Set { return f.s }

func TestDecide(t *testing.T) {
	ok := newEnv(t, false)
	bad := newEnv(t, true)
	tests := []struct {
		name      string
		env       *env
		q         gateway.DeviceQuery
		wantAllow bool
		wantCodes []string
	}{
		{"a compliant device is allowed", ok, gateway.DeviceQuery{DeviceID: "dev"}, true, nil},
		{"the device is found by its certificate hash", ok, gateway.DeviceQuery{CertSHA256: certSHA}, true, nil},
		{"its owner is allowed", ok, gateway.DeviceQuery{DeviceID: "dev", User: "alice"}, true, nil},
		{"another user is denied", ok, gateway.DeviceQuery{DeviceID: "dev", User: "bob"}, false, []string{"device_assigned_to_other_user:"}},
		{"a device on open Wi-Fi is denied with the control named", bad, gateway.DeviceQuery{DeviceID: "dev"}, false, []string{"control_failed:wifi_encryption"}},
		{"an unknown device is denied", ok, gateway.DeviceQuery{DeviceID: "ghost"}, false, []string{"device_unknown:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := tt.env.client.Decide(context.Background(), tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var codes []string
			for _, r := range d.Reasons {
				codes = append(codes, r.Code+":"+r.Control)
			}
			if d.Allow != tt.wantAllow {
				t.Errorf("allow = %v", d.Allow)
			}
			if diff := cmp.Diff(tt.wantCodes, codes); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
			if d.EvaluatedAt.IsZero() || !d.ValidUntil.After(d.EvaluatedAt) {
				t.Errorf("evaluated_at %v, valid_until %v", d.EvaluatedAt, d.ValidUntil)
			}
		})
	}
	t.Run("a bad query is refused before any request", func(t *testing.T) {
		if _, err := ok.client.Decide(context.Background(), gateway.DeviceQuery{}); err == nil {
			t.Error("no error")
		}
	})
	t.Run("a wrong key is ErrUnauthorized", func(t *testing.T) {
		pool := x509.NewCertPool()
		pool.AddCert(ok.srv.Certificate())
		c, _ := gateway.New(ok.srv.URL, "pk_nope", gateway.WithRootCAs(pool))
		if _, err := c.Decide(context.Background(), gateway.DeviceQuery{DeviceID: "dev"}); !errors.Is(err, gateway.ErrUnauthorized) {
			t.Errorf("err = %v, want ErrUnauthorized", err)
		}
	})
	t.Run("an untrusted server certificate is an error", func(t *testing.T) {
		c, _ := gateway.New(ok.srv.URL, ok.key)
		if _, err := c.Decide(context.Background(), gateway.DeviceQuery{DeviceID: "dev"}); err == nil {
			t.Error("no error")
		}
	})
}

func TestNewValidates(t *testing.T) {
	for _, tt := range []struct{ name, url, key string }{
		{"a relative URL is refused", "postern:8443", "k"},
		{"an ftp URL is refused", "ftp://postern", "k"},
		{"an empty key is refused", "https://postern", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := gateway.New(tt.url, tt.key); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestEvents(t *testing.T) {
	e := newEnv(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ch := e.client.Events(ctx)
	next := func() gateway.Event {
		t.Helper()
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatal("channel closed")
			}
			return ev
		case <-ctx.Done():
			t.Fatal("no event")
		}
		return gateway.Event{}
	}
	// The stream connects asynchronously; publish until the first event
	// is received, then continue with a known position.
	probe := waitConnected(t, e.bus, ch)
	t.Run("a compliance change arrives with its subject and reasons", func(t *testing.T) {
		e.bus.Publish(events.Event{Kind: events.KindComplianceChange, DeviceID: "dev", CertSHA256: certSHA,
			PreviousStatus: events.StatusCompliant, CurrentStatus: events.StatusNotCompliant,
			ReasonCodes: []string{"control_failed:wifi_encryption"}})
		ev := next()
		want := gateway.Event{ID: fmt.Sprint(probe + 1), EventType: gateway.EventComplianceChange, DeviceID: "dev", CertSHA256: certSHA,
			PreviousStatus: gateway.StatusCompliant, CurrentStatus: gateway.StatusNotCompliant, ReasonCodes: []string{"control_failed:wifi_encryption"}}
		ev.EventTimestamp = 0
		if diff := cmp.Diff(want, ev); diff != "" {
			t.Errorf("event (-want +got):\n%s", diff)
		}
		if !ev.EndsSessions() {
			t.Error("EndsSessions = false for a not-compliant device")
		}
	})
	t.Run("after the connection drops the client resumes without losing events", func(t *testing.T) {
		e.srv.CloseClientConnections()
		e.bus.Publish(events.Event{Kind: events.KindDeviceRevoked, DeviceID: "dev", CurrentStatus: events.StatusNotCompliant})
		e.bus.Publish(events.Event{Kind: events.KindPolicyChanged})
		got := []string{next().EventType, next().EventType}
		if diff := cmp.Diff([]string{gateway.EventDeviceRevoked, gateway.EventPolicyChanged}, got); diff != "" {
			t.Errorf("events after reconnect (-want +got):\n%s", diff)
		}
	})
	t.Run("ending the context closes the channel", func(t *testing.T) {
		cancel()
		for range ch {
		}
	})
}

// waitConnected publishes probe events until one comes through and
// returns the ID of the last probe.
func waitConnected(t *testing.T, bus *events.Bus, ch <-chan gateway.Event) uint64 {
	t.Helper()
	for range 500 {
		bus.Publish(events.Event{Kind: events.KindPolicyChanged})
		select {
		case <-ch:
			// Drain probes that arrived in the meantime.
			for {
				select {
				case <-ch:
				case <-time.After(50 * time.Millisecond):
					return bus.LastID()
				}
			}
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatal("the event stream never connected")
	return 0
}

func TestVerifyWebhook(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	body := []byte(`{"id":"1"}`)
	at := time.Unix(1740830400, 0)
	sig := events.SignWebhook(secret, at, body)
	tests := []struct {
		name    string
		header  string
		body    []byte
		now     time.Time
		wantErr error
	}{
		{"a fresh delivery verifies", sig, body, at.Add(time.Minute), nil},
		{"a changed body is refused", sig, []byte(`{"id":"2"}`), at, gateway.ErrBadSignature},
		{"another secret's signature is refused", events.SignWebhook([]byte("other"), at, body), body, at, gateway.ErrBadSignature},
		{"an old delivery is refused", sig, body, at.Add(10 * time.Minute), gateway.ErrStale},
		{"a header without a signature is refused", "t=1740830400", body, at, gateway.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := gateway.VerifyWebhook(secret, tt.header, tt.body, tt.now, 5*time.Minute)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}
