package metrics

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/server/store"
)

// ingestStore answers IngestReport with the next result of a script.
type ingestStore struct {
	store.Store
	results []error
	dups    []bool
}

func (s *ingestStore) IngestReport(context.Context, store.Ingest) (bool, error) {
	err, dup := s.results[0], s.dups[0]
	s.results, s.dups = s.results[1:], s.dups[1:]
	return dup, err
}

func TestInstrumentStore(t *testing.T) {
	m := New()
	st := InstrumentStore(&ingestStore{
		results: []error{nil, nil, store.ErrSequenceReplayed, store.ErrDeviceRevoked, context.DeadlineExceeded},
		dups:    []bool{false, true, false, false, false},
	}, m)
	for range 5 {
		st.IngestReport(context.Background(), store.Ingest{})
	}
	m.ObserveDecision("authz", ResultDeny, []Reason{{Code: "control_failed", Control: "firewall"}}, time.Millisecond)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`postern_ingest_reports_total{result="stored"} 1`,
		`postern_ingest_reports_total{result="duplicate"} 1`,
		`postern_ingest_reports_total{result="replayed"} 1`,
		`postern_ingest_reports_total{result="refused"} 1`,
		`postern_ingest_reports_total{result="error"} 1`,
		`postern_ingest_commit_duration_seconds_count 4`,
		`postern_decisions_total{endpoint="authz",result="deny"} 1`,
		`postern_deny_reasons_total{control="firewall",reason="control_failed"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestNilMetricsRecordNothing(t *testing.T) {
	var m *Metrics
	m.ObserveDecision("decision", ResultAllow, nil, time.Millisecond)
	m.ObserveIngest(IngestStored, time.Millisecond)
	m.StreamClients(1)
	m.StreamDropped(StreamDropBehind)
	m.WebhookAttempt("delivered")
	if st := InstrumentStore(nil, nil); st != nil {
		t.Error("a nil Metrics wrapped the store")
	}
}
