package api

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/postern-dev/postern/server/decision"
)

// failingDecider fails every decision with err.
type failingDecider struct{ err error }

func (d failingDecider) Decide(context.Context, decision.Lookup, string) (decision.Decision, error) {
	return decision.Decision{}, d.err
}

func TestAFailedDecisionIsAnErrorOnlyWhenTheCallerStillWaits(t *testing.T) {
	tests := []struct {
		name      string
		hangUp    bool
		wantError bool
	}{
		{name: "a store failure while the gateway waits is logged as an error", wantError: true},
		{name: "a gateway that hung up is not a server failure", hangUp: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			f := newFixtureWith(t, "alice", func(c *Config) {
				c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
				c.Decider = failingDecider{err: errors.New("read posture: database is locked")}
			})
			hdr := map[string]string{"X-Client-Cert": nginxEscape(string(f.certPEM))}
			for _, path := range []string{"/v1/authz", "/v1/decision?device_id=dev"} {
				req := newRequest("GET", path, hdr, "10.0.0.1:1")
				if strings.HasPrefix(path, "/v1/decision") {
					req.Header.Set("Authorization", "Bearer "+f.key)
				}
				if tt.hangUp {
					ctx, cancel := context.WithCancel(req.Context())
					cancel()
					req = req.WithContext(ctx)
				}
				// Nobody reads the answer to a caller that hung up.
				if rec := serve(f.h, req); !tt.hangUp && rec.Code != 503 {
					t.Errorf("%s: status %d, want 503", path, rec.Code)
				}
			}
			want := 0
			if tt.wantError {
				want = 2
			}
			if got := strings.Count(logs.String(), "level=ERROR"); got != want {
				t.Errorf("%d error lines, want %d:\n%s", got, want, logs.String())
			}
		})
	}
}

func TestAKeyThatCannotBeLookedUpIsARetryNotARefusal(t *testing.T) {
	f := newFixture(t)
	// The key is not cached yet; with the database gone, looking it up
	// fails. The gateway must hear "retry", not "your key is wrong".
	if err := f.store.Close(); err != nil {
		t.Fatal(err)
	}
	req := newRequest("GET", "/v1/decision?device_id=dev", map[string]string{"Authorization": "Bearer " + f.key}, "10.0.0.1:1")
	rec := serve(f.h, req)
	if rec.Code != 503 || rec.Header().Get("WWW-Authenticate") != "" {
		t.Errorf("status %d (WWW-Authenticate %q), want 503 without a challenge: %s", rec.Code, rec.Header().Get("WWW-Authenticate"), rec.Body)
	}
	req = newRequest("GET", "/v1/decision?device_id=dev", map[string]string{"Authorization": "Bearer pk_nothex_x"}, "10.0.0.1:1")
	if rec := serve(f.h, req); rec.Code != 401 {
		t.Errorf("a malformed key: status %d, want 401", rec.Code)
	}
}
