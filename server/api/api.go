package api

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/store"
)

// Config is what the API handlers need. Store and Policy are required.
type Config struct {
	Store  store.Store
	Policy *checks.Policy
	// PolicyVersion changes whenever Policy does; it keys cached verdicts.
	PolicyVersion uint64
	// Cache holds verdicts between requests; a fresh one is made if nil.
	Cache *decision.Cache
	// TrustedProxies may forward client certificates to /v1/authz.
	TrustedProxies []netip.Prefix
	Logger         *slog.Logger
	Now            func() time.Time
}

// Limits on query parameters.
const (
	maxDeviceIDLen = 64
	maxUserLen     = 256
	requestTimeout = 10 * time.Second
)

type api struct {
	cfg Config
	log *slog.Logger
	now func() time.Time
}

// NewHandler returns the API's routes.
func NewHandler(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Cache == nil {
		cfg.Cache = decision.NewCache(decision.DefaultCacheSize, decision.DefaultCacheTTL)
	}
	a := &api{cfg: cfg, log: cfg.Logger, now: cfg.Now}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.Handle("GET /v1/decision", a.requireKey(http.HandlerFunc(a.decision)))
	mux.HandleFunc("GET /v1/authz", a.authz)
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

func (a *api) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// requireKey admits requests carrying a valid, unrevoked API key as
// "Authorization: Bearer pk_...". Every failure gets the same answer.
func (a *api) requireKey(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.validKey(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="postern"`)
			writeJSON(w, http.StatusUnauthorized, errorBody{Error: "unauthorized"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (a *api) validKey(r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	scheme, key, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	id, hash, ok := store.ParseAPIKey(strings.TrimSpace(key))
	if !ok {
		return false
	}
	k, err := a.cfg.Store.APIKey(r.Context(), id)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			a.log.Error("read api key failed", "err", err)
		}
		return false
	}
	return store.HashesEqual(k.Hash, hash) && k.RevokedAt.IsZero()
}

type errorBody struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// lookup is how a request identifies the device.
type lookup struct {
	deviceID, certSHA256 string
}

// decide loads what the store knows about the device and decides.
func (a *api) decide(ctx context.Context, l lookup, user string) (decision.Decision, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	now := a.now()
	var p store.Posture
	var err error
	if l.certSHA256 != "" {
		p, err = a.cfg.Store.PostureByCert(ctx, l.certSHA256)
	} else {
		p, err = a.cfg.Store.Posture(ctx, l.deviceID)
	}
	in := decision.Input{DeviceID: l.deviceID, User: user}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return decision.Decide(in, a.cfg.Policy, now), nil
	case err != nil:
		return decision.Decision{}, err
	}
	in.DeviceID, in.Known, in.Revoked, in.FirstFailed = p.Device.ID, true, p.Device.Revoked(), p.FirstFailed
	if p.Latest != nil {
		latest := p.Latest
		in.HasReport = true
		in.PostureTime = decision.PostureTime(latest.CollectedAt, latest.ReceivedAt)
		in.Verdicts, err = a.cfg.Cache.Verdicts(p.Device.ID, latest.Sequence, a.cfg.PolicyVersion, a.cfg.Policy, now, func() (*checks.Report, error) {
			var r checks.Report
			if err := json.Unmarshal(latest.Body, &r); err != nil {
				return nil, err
			}
			return &r, nil
		})
		if err != nil {
			return decision.Decision{}, err
		}
	}
	return decision.Decide(in, a.cfg.Policy, now), nil
}
