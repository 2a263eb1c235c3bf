package alerts

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/events"
	"github.com/postern-dev/postern/server/store"
)

// Lease names the lease (store.TryLease) held by the one replica that
// watches for alerts.
const Lease = "alerts"

// ExpiringWithin is how soon an exception's end is alerted.
const ExpiringWithin = 7 * 24 * time.Hour

// certThresholds are how long before its end the HTTPS certificate is
// alerted: each once per certificate.
var certThresholds = []time.Duration{24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour} // tightest first

// WatchStore is what the watchers read and mark; store.Store has it.
type WatchStore interface {
	AuditTail(ctx context.Context) (store.AuditRow, error)
	AuditRows(ctx context.Context, afterSeq uint64, limit int) ([]store.AuditRow, error)
	Exceptions(ctx context.Context, unexpiredAt time.Time) ([]store.Exception, error)
	Device(ctx context.Context, id string) (store.Device, error)
	State(ctx context.Context, name string) ([]byte, time.Time, error)
	PutState(ctx context.Context, name string, value []byte, at time.Time) error
	TryLease(ctx context.Context, name string) (store.Lease, error)
}

// Verifier checks the audit chain (*audit.Log).
type Verifier interface {
	Verify(ctx context.Context) (audit.VerifyResult, error)
}

// WatchConfig configures a Watcher. Store and Raise are required.
type WatchConfig struct {
	Store WatchStore
	// Raise receives each alert (Dispatcher.Raise).
	Raise func(Alert)
	// Audit, if set, is verified daily.
	Audit Verifier
	// Cert returns the certificate the HTTPS port serves now; nil skips
	// the check.
	Cert   func() *x509.Certificate
	Now    func() time.Time
	Logger *slog.Logger
}

// Watcher turns the server's state into alerts, each once.
type Watcher struct {
	cfg WatchConfig
}

// NewWatcher returns a Watcher.
func NewWatcher(cfg WatchConfig) *Watcher {
	if cfg.Now == nil {
		cfg.Now = clock.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Watcher{cfg: cfg}
}

const (
	cursorState = "alerts_cursor"
	auditPage   = 500
)

// once raises a unless an alert with key was raised before (on any
// replica, before any restart).
func (w *Watcher) once(ctx context.Context, key string, a Alert) error {
	name := "alerted:" + key
	_, _, err := w.cfg.Store.State(ctx, name)
	if err == nil {
		return nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	// Marked first: a crash between the two loses an alert rather than
	// repeating it forever.
	if err := w.cfg.Store.PutState(ctx, name, []byte(string(a.Kind)), w.cfg.Now()); err != nil {
		return err
	}
	w.cfg.Raise(a)
	return nil
}

// ScanAudit raises alerts for the audit rows written since the last
// scan: devices newly blocked (allowed before) and policy changes held.
// The first scan starts at the log's end.
func (w *Watcher) ScanAudit(ctx context.Context) error {
	st := w.cfg.Store
	v, _, err := st.State(ctx, cursorState)
	var after uint64
	switch {
	case errors.Is(err, store.ErrNotFound):
		tail, err := st.AuditTail(ctx)
		if err != nil {
			return err
		}
		return st.PutState(ctx, cursorState, []byte(strconv.FormatUint(tail.Seq, 10)), w.cfg.Now())
	case err != nil:
		return err
	}
	if after, err = strconv.ParseUint(string(v), 10, 64); err != nil {
		return fmt.Errorf("alerts cursor %q: %w", v, err)
	}
	for {
		rows, err := st.AuditRows(ctx, after, auditPage)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if a, ok := w.fromRow(ctx, r); ok {
				w.cfg.Raise(a)
			}
			after = r.Seq
		}
		if len(rows) > 0 {
			if err := st.PutState(ctx, cursorState, []byte(strconv.FormatUint(after, 10)), w.cfg.Now()); err != nil {
				return err
			}
		}
		if len(rows) < auditPage {
			return nil
		}
	}
}

// fromRow is the alert an audit row calls for, if any.
func (w *Watcher) fromRow(ctx context.Context, r store.AuditRow) (Alert, bool) {
	switch r.Kind {
	case audit.KindDecisionChanged:
		var d events.ChangeDetails
		if err := json.Unmarshal(r.Details, &d); err != nil || !d.PreviousAllow || d.Allow {
			return Alert{}, false
		}
		name := r.DeviceID
		if dev, err := w.cfg.Store.Device(ctx, r.DeviceID); err == nil {
			name = fmt.Sprintf("%s (%s, %s)", dev.Info.Hostname, dev.Owner, r.DeviceID)
		}
		why := d.ReasonAdmin
		if why == "" {
			why = strings.Join(d.Reasons, ", ")
		}
		return Alert{Kind: KindDeviceBlocked, At: r.At, Title: "Device " + name + " blocked",
			Text: "Its access to the gateway is now denied: " + why + ". See the device's page on the dashboard."}, true
	case audit.KindPolicyHeld:
		var d struct {
			Hash   string `json:"hash"`
			Impact struct {
				Active, NewlyDenied int
				Share               float64
			} `json:"impact"`
			MaxShare float64 `json:"max_deny_share"`
		}
		if err := json.Unmarshal(r.Details, &d); err != nil {
			return Alert{}, false
		}
		return Alert{Kind: KindPolicyHeld, At: r.At, Title: "Policy change held by the mass-failure guard",
			Text: fmt.Sprintf("The new policy (%.12s) would deny %d of %d active devices (%.0f%%, above the %.0f%% limit); the previous policy stays in force. Review it with postern-server policy status, and accept it with postern-server policy accept if it is meant.",
				d.Hash, d.Impact.NewlyDenied, d.Impact.Active, 100*d.Impact.Share, 100*d.MaxShare)}, true
	}
	return Alert{}, false
}

// CheckExceptions raises, once per exception, for those that end within
// ExpiringWithin.
func (w *Watcher) CheckExceptions(ctx context.Context) error {
	now := w.cfg.Now()
	list, err := w.cfg.Store.Exceptions(ctx, now)
	if err != nil {
		return err
	}
	for _, e := range list {
		if !e.ActiveAt(now) || e.ExpiresAt.Sub(now) > ExpiringWithin {
			continue
		}
		days := int(e.ExpiresAt.Sub(now).Hours()/24 + 0.5)
		a := Alert{Kind: KindExceptionExpiring, At: now,
			Title: fmt.Sprintf("Exception for %s on %s %s ends %s", e.Control, e.Scope, e.Subject, e.ExpiresAt.UTC().Format("2 Jan 2006")),
			Text: fmt.Sprintf("In about %d days the %s exception (%s, approved by %s) ends and the control applies again. Renew it on the dashboard's exceptions page if it is still needed.",
				days, e.Control, e.Reason, e.Approver)}
		if err := w.once(ctx, "exception:"+e.ID, a); err != nil {
			return err
		}
	}
	return nil
}

// VerifyAudit checks the audit chain and raises once per break found.
func (w *Watcher) VerifyAudit(ctx context.Context) error {
	if w.cfg.Audit == nil {
		return nil
	}
	res, err := w.cfg.Audit.Verify(ctx)
	if err != nil {
		return err
	}
	if res.OK() {
		return nil
	}
	first := res.Problems[0]
	w.cfg.Logger.Error("audit chain broken", "problems", len(res.Problems), "first", first.String())
	return w.once(ctx, fmt.Sprintf("audit:%d", first.Seq), Alert{Kind: KindAuditBroken, At: w.cfg.Now(),
		Title: fmt.Sprintf("Audit log broken at row %d", first.Seq),
		Text: fmt.Sprintf("Verifying the audit chain found %d problem(s), the first: %s. Rows were edited, deleted or inserted outside Postern. Run postern-server audit verify on the server and compare with your exported copies.",
			len(res.Problems), first.String())})
}

// CheckCert raises when the HTTPS certificate comes within 30, 7 and 1
// days of its end, each once per certificate.
func (w *Watcher) CheckCert(ctx context.Context) error {
	if w.cfg.Cert == nil {
		return nil
	}
	c := w.cfg.Cert()
	if c == nil {
		return nil
	}
	left := c.NotAfter.Sub(w.cfg.Now())
	for _, th := range certThresholds {
		if left > th {
			continue
		}
		key := fmt.Sprintf("cert:%x:%d", c.SerialNumber, int(th.Hours()))
		a := Alert{Kind: KindCertExpiring, At: w.cfg.Now(),
			Title: fmt.Sprintf("HTTPS certificate ends %s", c.NotAfter.UTC().Format("2 Jan 2006 15:04 UTC")),
			Text: fmt.Sprintf("The certificate the dashboard and API serve (%s) ends in %s. Put the renewed certificate and key where tls_cert and tls_key point and send the server SIGHUP (systemctl reload postern-server).",
				c.Subject.String(), left.Round(time.Hour))}
		if left <= 0 {
			a.Title = fmt.Sprintf("HTTPS certificate expired %s", c.NotAfter.UTC().Format("2 Jan 2006 15:04 UTC"))
		}
		return w.once(ctx, key, a)
	}
	return nil
}

// Every how often Run does each check.
const (
	scanEvery   = 10 * time.Second
	dailyEvery  = 24 * time.Hour
	hourlyEvery = time.Hour
)

// Run watches until ctx ends, on the one replica holding Lease.
func (w *Watcher) Run(ctx context.Context) {
	for ctx.Err() == nil {
		lease, err := w.cfg.Store.TryLease(ctx, Lease)
		if err == nil {
			w.watch(ctx, lease)
			lease.Release()
		} else if !errors.Is(err, store.ErrLeaseHeld) && ctx.Err() == nil {
			w.cfg.Logger.Warn("take the alerts lease failed", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(30 * time.Second):
		}
	}
}

func (w *Watcher) watch(ctx context.Context, lease store.Lease) {
	var lastHourly, lastDaily time.Time
	tick := time.NewTicker(scanEvery)
	defer tick.Stop()
	for {
		w.step(ctx, "scan audit log", w.ScanAudit)
		// Elapsed time, not dates: the checks' own clock decides what is due.
		if time.Since(lastHourly) >= hourlyEvery { // wall clock: elapsed time between checks
			lastHourly = time.Now() // wall clock: elapsed time between checks
			w.step(ctx, "check exceptions", w.CheckExceptions)
			w.step(ctx, "check https certificate", w.CheckCert)
		}
		if time.Since(lastDaily) >= dailyEvery { // wall clock: elapsed time between checks
			lastDaily = time.Now() // wall clock: elapsed time between checks
			w.step(ctx, "verify audit log", w.VerifyAudit)
		}
		select {
		case <-ctx.Done():
			return
		case <-lease.Lost():
			return
		case <-tick.C:
		}
	}
}

func (w *Watcher) step(ctx context.Context, what string, f func(context.Context) error) {
	if err := f(ctx); err != nil && ctx.Err() == nil {
		w.cfg.Logger.Warn("alerts: "+what+" failed", "err", err)
	}
}
