package decision

import (
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
)

// BenchmarkDecide measures one decision in process: verdicts for the
// device's latest report (from the cache, as in the API) and Decide.
func BenchmarkDecide(b *testing.B) {
	p := checks.DefaultPolicy()
	r := report(true)
	c := NewCache(DefaultCacheSize, DefaultCacheTTL)
	load := func() (*checks.Report, error) { return r, nil }
	now := t0.Add(time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		vs, err := c.Verdicts("dev", 7, 1, p, now, load)
		if err != nil {
			b.Fatal(err)
		}
		d := Decide(Input{DeviceID: "dev", Known: true, HasReport: true, PostureTime: t0, Verdicts: vs}, p, now)
		if !d.Allow {
			b.Fatal("denied")
		}
	}
}

// BenchmarkDecideUncached is the same decision re-running checks.Evaluate
// every time, for comparison.
func BenchmarkDecideUncached(b *testing.B) {
	p := checks.DefaultPolicy()
	r := report(true)
	now := t0.Add(time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		vs := checks.Evaluate(r, p, now)
		d := Decide(Input{DeviceID: "dev", Known: true, HasReport: true, PostureTime: t0, Verdicts: vs}, p, now)
		if !d.Allow {
			b.Fatal("denied")
		}
	}
}
