package decision

import (
	"context"
	"testing"

	"github.com/postern-dev/postern/server/audit"
)

// BenchmarkEngineDecide measures one decision as the API makes it: the
// posture from the posture cache, cached verdicts, exceptions and
// attestation from the in-memory index, change tracking and the audit
// counter.
func BenchmarkEngineDecide(b *testing.B) {
	benchEngineDecide(b, true)
}

// BenchmarkEngineDecideUncached is BenchmarkEngineDecide reading the
// posture from SQLite every time, as on a cache miss.
func BenchmarkEngineDecideUncached(b *testing.B) {
	benchEngineDecide(b, false)
}

func benchEngineDecide(b *testing.B, cached bool) {
	e := newEngineEnv(b, "")
	if !cached {
		e.eng.cfg.Postures = nil
	}
	e.eng.cfg.Recorder = audit.NewDecisionRecorder(e.log)
	e.enroll("dev", "clinic-a")
	e.report("dev")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		d, err := e.eng.Decide(ctx, Lookup{DeviceID: "dev"}, "")
		if err != nil || !d.Allow {
			b.Fatalf("decide: %+v, %v", d, err)
		}
	}
}

// BenchmarkAuditAppend measures one audit row written to SQLite.
func BenchmarkAuditAppend(b *testing.B) {
	e := newEngineEnv(b, "")
	ctx := context.Background()
	for b.Loop() {
		if _, err := e.log.Append(ctx, audit.Entry{Actor: "bench", Kind: audit.KindAdmin, DeviceID: "dev"}); err != nil {
			b.Fatal(err)
		}
	}
}
