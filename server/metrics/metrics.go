package metrics

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/postern-dev/postern/server/store"
)

// Results of a decision, as the "result" label.
const (
	ResultAllow = "allow"
	ResultDeny  = "deny"
	ResultError = "error"
)

// Results of an ingested report, as the "result" label.
const (
	IngestStored    = "stored"
	IngestDuplicate = "duplicate"
	IngestReplayed  = "replayed"
	IngestRefused   = "refused"
	IngestError     = "error"
)

// maxReasonLabel bounds the reason label: reason codes are a closed set of
// short words, but a bug must not blow up the series count.
const maxReasonLabel = 64

// Metrics is the server's set of metrics. A nil *Metrics is valid and
// records nothing, so that callers need no checks.
type Metrics struct {
	reg             *prometheus.Registry
	decisions       *prometheus.CounterVec
	denyReasons     *prometheus.CounterVec
	decisionLatency *prometheus.HistogramVec
	ingested        *prometheus.CounterVec
	ingestLatency   prometheus.Histogram
	sseClients      prometheus.Gauge
	sseDrops        *prometheus.CounterVec
	webhooks        *prometheus.CounterVec
	// series holds each endpoint's resolved decision series
	// (*decisionSeries): a decision then costs no label hashing.
	series sync.Map
}

// decisionSeries are one endpoint's decision counters and latency.
type decisionSeries struct {
	allow, deny, fail prometheus.Counter
	latency           prometheus.Observer
}

// latencyBuckets cover 100 µs to 2.5 s: decisions take well under a
// millisecond from cache; a database hiccup shows in the upper buckets.
var latencyBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

// New returns a fresh set of metrics in its own registry, with the Go
// runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postern_decisions_total",
			Help: "Decisions answered, by endpoint (decision, authz) and result (allow, deny, error).",
		}, []string{"endpoint", "result"}),
		denyReasons: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postern_deny_reasons_total",
			Help: "Reasons of denied decisions, by reason code and control (empty when none is involved).",
		}, []string{"reason", "control"}),
		decisionLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "postern_decision_duration_seconds",
			Help:    "Time to answer a decision request, from routing to the encoded answer.",
			Buckets: latencyBuckets,
		}, []string{"endpoint"}),
		ingested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postern_ingest_reports_total",
			Help: "Reports received from agents, by result (stored, duplicate, replayed, refused, error).",
		}, []string{"result"}),
		ingestLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "postern_ingest_commit_duration_seconds",
			Help:    "Time to commit a report to the store.",
			Buckets: latencyBuckets,
		}),
		sseClients: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "postern_event_stream_clients",
			Help: "Connected /v1/events clients.",
		}),
		sseDrops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postern_event_stream_drops_total",
			Help: "Event-stream clients the server ended, by reason (behind: more events queued than the buffer holds; write_timeout: one write took longer than the per-write deadline).",
		}, []string{"reason"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postern_webhook_deliveries_total",
			Help: "Webhook delivery attempts, by result (delivered, retried, dropped).",
		}, []string{"result"}),
	}
	m.reg.MustRegister(m.decisions, m.denyReasons, m.decisionLatency, m.ingested, m.ingestLatency,
		m.sseClients, m.sseDrops, m.webhooks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry the metrics live in, for tests and for
// registering more collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{MaxRequestsInFlight: 4, Timeout: 10 * time.Second})
}

// Reason is one deny reason for ObserveDecision.
type Reason struct {
	Code, Control string
}

// ObserveDecision records one decision answered by endpoint.
func (m *Metrics) ObserveDecision(endpoint, result string, reasons []Reason, took time.Duration) {
	if m == nil {
		return
	}
	v, ok := m.series.Load(endpoint)
	if !ok {
		v, _ = m.series.LoadOrStore(endpoint, &decisionSeries{
			allow:   m.decisions.WithLabelValues(endpoint, ResultAllow),
			deny:    m.decisions.WithLabelValues(endpoint, ResultDeny),
			fail:    m.decisions.WithLabelValues(endpoint, ResultError),
			latency: m.decisionLatency.WithLabelValues(endpoint),
		})
	}
	s := v.(*decisionSeries)
	switch result {
	case ResultAllow:
		s.allow.Inc()
	case ResultDeny:
		s.deny.Inc()
	case ResultError:
		s.fail.Inc()
	default:
		m.decisions.WithLabelValues(endpoint, result).Inc()
	}
	s.latency.Observe(took.Seconds())
	for _, r := range reasons {
		m.denyReasons.WithLabelValues(label(r.Code), label(r.Control)).Inc()
	}
}

// ObserveIngest records one report's result and commit time.
func (m *Metrics) ObserveIngest(result string, took time.Duration) {
	if m == nil {
		return
	}
	m.ingested.WithLabelValues(result).Inc()
	if result != IngestRefused {
		m.ingestLatency.Observe(took.Seconds())
	}
}

// StreamClients adds delta to the number of connected event-stream clients.
func (m *Metrics) StreamClients(delta int) {
	if m == nil {
		return
	}
	m.sseClients.Add(float64(delta))
}

// Reasons an event-stream client is dropped, as the "reason" label.
const (
	StreamDropBehind       = "behind"
	StreamDropWriteTimeout = "write_timeout"
)

// StreamDropped counts one event-stream client ended by the server for
// reason (StreamDrop*).
func (m *Metrics) StreamDropped(reason string) {
	if m == nil {
		return
	}
	m.sseDrops.WithLabelValues(reason).Inc()
}

// WebhookAttempt counts one webhook delivery attempt's result.
func (m *Metrics) WebhookAttempt(result string) {
	if m == nil {
		return
	}
	m.webhooks.WithLabelValues(result).Inc()
}

func label(s string) string {
	if len(s) > maxReasonLabel {
		s = s[:maxReasonLabel]
	}
	return strings.ToValidUTF8(s, "?")
}

// InstrumentStore returns st with report ingestion counted and timed in m.
// Every other method passes through unchanged.
func InstrumentStore(st store.Store, m *Metrics) store.Store {
	if m == nil {
		return st
	}
	return &instrumentedStore{Store: st, m: m}
}

type instrumentedStore struct {
	store.Store
	m *Metrics
}

func (s *instrumentedStore) IngestReport(ctx context.Context, in store.Ingest) (bool, error) {
	start := time.Now() // wall clock: measures elapsed time
	dup, err := s.Store.IngestReport(ctx, in)
	result := IngestStored
	switch {
	case errors.Is(err, store.ErrSequenceReplayed):
		result = IngestReplayed
	case errors.Is(err, store.ErrDeviceRevoked), errors.Is(err, store.ErrNotFound):
		result = IngestRefused
	case err != nil:
		result = IngestError
	case dup:
		result = IngestDuplicate
	}
	s.m.ObserveIngest(result, time.Since(start)) // wall clock: measures elapsed time
	return dup, err
}
