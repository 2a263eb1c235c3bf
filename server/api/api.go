package api

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/internal/jsonenc"
	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/events"
	"github.com/postern-dev/postern/server/metrics"
	"github.com/postern-dev/postern/server/store"
)

// Config is what the API handlers need. Store and Decider are required.
type Config struct {
	Store store.Store
	// Decider makes every decision (*decision.Engine: the one function
	// behind the dashboard, the command line and the agent's acks too);
	// the handlers only add the shared-device check for a named user.
	Decider Decider
	// TrustedProxies may forward client certificates to /v1/authz.
	TrustedProxies []netip.Prefix
	Logger         *slog.Logger
	Now            func() time.Time

	// Metrics, if set, records decisions and is served at /metrics
	// (API key required).
	Metrics *metrics.Metrics
	// Events, if set, is streamed at /v1/events.
	Events *events.Bus
	// Heartbeat is the interval of keep-alive comments on /v1/events
	// (DefaultHeartbeat if zero).
	Heartbeat time.Duration
	// StreamWriteTimeout bounds each write to a /v1/events client
	// (DefaultStreamWriteTimeout if zero); a stream has no deadline as a
	// whole, so the server's WriteTimeout does not end it.
	StreamWriteTimeout time.Duration
	// Postures, if set, reuses posture reads briefly (see
	// decision.DefaultPostureTTL) for the shared-device check; give the
	// Decider the same cache, so that one cache serves the whole server.
	// Nil reads the store every time.
	Postures *decision.PostureCache
	// Ready, if set, is asked by /readyz; nil means always ready.
	Ready func(context.Context) error
	// Manage, if set, serves the management API (manage.go); without it
	// those endpoints answer 404.
	Manage *ManageConfig
}

// Decider decides for a device; it is asked without a user, so that a
// decision describes the device alone (the user check is the handlers').
type Decider interface {
	Decide(ctx context.Context, l decision.Lookup, user string) (decision.Decision, error)
}

// Limits on query parameters.
const (
	maxDeviceIDLen = 64
	maxUserLen     = 256
)

type api struct {
	cfg   Config
	log   *slog.Logger
	now   func() time.Time
	keys  keyCache
	certs certCache
	// uses records when keys were used (apiauth.go).
	uses useRecorder
	// bodies keeps each device's encoded decision (decisionbody.go).
	bodies bodyCache
}

// NewHandler returns the API's routes. It panics without a Store or a
// Decider: there is no other way to decide.
func NewHandler(cfg Config) http.Handler {
	return newAPI(cfg).handler()
}

// newAPI is NewHandler's api with the defaults filled in, for tests that
// look inside it.
func newAPI(cfg Config) *api {
	if cfg.Store == nil || cfg.Decider == nil {
		panic("api: Config.Store and Config.Decider are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = clock.Now
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	if cfg.StreamWriteTimeout <= 0 {
		cfg.StreamWriteTimeout = DefaultStreamWriteTimeout
	}
	return &api{cfg: cfg, log: cfg.Logger, now: cfg.Now}
}

func (a *api) handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range a.routes() {
		mux.Handle(rt.pattern, rt.handler)
	}
	return mux
}

// NewServer returns an HTTPS server for h on addr with every timeout set.
func NewServer(addr string, h http.Handler, cert tls.Certificate, log *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           http.MaxBytesHandler(h, 64<<10),
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}},
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

type errorBody struct {
	Error string `json:"error"`
}

// writeJSON encodes v first and writes it in one call with its
// Content-Length: the answer goes out in one piece, never chunked.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := jsonenc.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"the answer could not be encoded"}`)
	}
	b = append(b, '\n')
	h := w.Header()
	h["Content-Type"] = applicationJSON
	h["Cache-Control"] = noStore
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(status)
	w.Write(b)
}

var applicationJSON = []string{"application/json"}

// lookup is how a request identifies the device.
type lookup struct {
	deviceID, certSHA256 string
}

// posture reads the device's posture through the posture cache.
func (a *api) posture(ctx context.Context, l lookup) (store.Posture, error) {
	return a.cfg.Postures.Posture(ctx, a.cfg.Store, decision.Lookup{DeviceID: l.deviceID, CertSHA256: l.certSHA256})
}
