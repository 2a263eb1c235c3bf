package api

import (
	"testing"
	"time"

	"github.com/postern-dev/postern/server/ca"
	"github.com/postern-dev/postern/server/decision"
)

func TestPostureCache(t *testing.T) {
	t.Run("a write through ForgetOnWrite shows in the next decision, by id and by certificate", func(t *testing.T) {
		pc := decision.NewPostureCache(time.Hour)
		f := newFixtureWith(t, "", func(c *Config) { c.Postures = pc })
		auth := map[string]string{"Authorization": "Bearer " + f.key}
		sha := certSHA(t, f)
		f.store = decision.ForgetOnWrite(f.store, pc)
		for _, q := range []string{"device_id=dev", "cert_sha256=" + sha} {
			if d := decode(t, f.get("/v1/decision?"+q, auth, "")); d.Allow {
				t.Fatalf("%s: allowed before any report", q)
			}
		}
		f.report(t, t0, true)
		for _, q := range []string{"device_id=dev", "cert_sha256=" + sha} {
			if d := decode(t, f.get("/v1/decision?"+q, auth, "")); !d.Allow {
				t.Errorf("%s: still denied after a passing report: %+v", q, d.Reasons)
			}
		}
	})
	t.Run("a write behind the cache's back shows only once the entry is dropped", func(t *testing.T) {
		pc := decision.NewPostureCache(time.Hour)
		f := newFixtureWith(t, "", func(c *Config) { c.Postures = pc })
		auth := map[string]string{"Authorization": "Bearer " + f.key}
		decode(t, f.get("/v1/decision?device_id=dev", auth, ""))
		f.report(t, t0, true)
		if d := decode(t, f.get("/v1/decision?device_id=dev", auth, "")); d.Allow {
			t.Error("the cached posture was not used")
		}
		pc.Forget("dev")
		if d := decode(t, f.get("/v1/decision?device_id=dev", auth, "")); !d.Allow {
			t.Error("the posture was not read again after Forget")
		}
	})
}

func certSHA(t *testing.T, f *fixture) string {
	t.Helper()
	return ca.Fingerprint(mustDER(t, f.certPEM))
}
