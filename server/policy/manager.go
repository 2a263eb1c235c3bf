package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

// Defaults of Config.
const (
	// DefaultMaxDenyShare is the share of active devices a change may flip
	// to deny before the guard holds it.
	DefaultMaxDenyShare = 0.20
	// DefaultPollInterval is how often Watch looks at the file.
	DefaultPollInterval = 5 * time.Second
	maxExamples         = 10
)

// Names of the server state rows the manager keeps.
const (
	stateActive = "policy_active"
	stateStatus = "policy_status"
	stateAccept = "policy_accept"
)

// Impact is what a policy change would do to the fleet.
type Impact struct {
	// Active is how many active (enrolled, not revoked, not inactive)
	// devices were evaluated; NewlyDenied how many of them are allowed now
	// and would be denied under the new policy.
	Active      int     `json:"active"`
	NewlyDenied int     `json:"newly_denied"`
	Share       float64 `json:"share"`
	// Examples names up to ten newly denied devices.
	Examples []string `json:"examples,omitempty"`
}

// ImpactFunc evaluates every active device under old and next.
type ImpactFunc func(ctx context.Context, old, next *Set) (Impact, error)

// Config is what a Manager needs. Store is required.
type Config struct {
	// Path is the policy file; empty means the built-in default only.
	Path  string
	Store store.LifecycleStore
	// Audit records applied, held and rejected changes; nil records none.
	Audit *audit.Log
	// Impact enables the mass-failure guard; nil disables it.
	Impact ImpactFunc
	// MaxDenyShare (0 < x <= 1) is DefaultMaxDenyShare when zero.
	MaxDenyShare float64
	// OnChange is called with every newly applied set.
	OnChange func(*Set)
	Logger   *slog.Logger
	Now      func() time.Time
}

// Held is a change the guard holds back.
type Held struct {
	Hash         string    `json:"hash"`
	Since        time.Time `json:"since"`
	Impact       Impact    `json:"impact"`
	MaxDenyShare float64   `json:"max_deny_share"`
}

// Status is the manager's state, also stored for `policy status`.
type Status struct {
	ActiveVersion uint64    `json:"active_version"`
	ActiveHash    string    `json:"active_hash"`
	ActiveSince   time.Time `json:"active_since"`
	Source        string    `json:"source,omitempty"`
	// Held is set while a change waits for `policy accept`.
	Held *Held `json:"held,omitempty"`
	// LastError is the latest file that could not be applied.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}

// activeRecord persists the applied file so that a change made while the
// server was stopped is still guarded, and versions keep increasing.
type activeRecord struct {
	Version   uint64    `json:"version"`
	Hash      string    `json:"hash"`
	YAML      []byte    `json:"yaml,omitempty"`
	AppliedAt time.Time `json:"applied_at"`
}

type acceptRecord struct {
	Hash     string    `json:"hash"`
	Approver string    `json:"approver"`
	At       time.Time `json:"at"`
}

// Manager holds the active policy set. Current is lock-free and safe to
// call from every request.
type Manager struct {
	cfg Config
	log *slog.Logger
	cur atomic.Pointer[Set]

	mu       sync.Mutex // serializes reloads
	status   Status
	rejected string // hash of the last file rejected, to audit it once
}

// ErrHeld is returned by Reload when the guard holds the change.
var ErrHeld = errors.New("policy change held by the mass-failure guard")

// NewManager loads the policy file, guarding it against the last applied
// one when they differ. It fails only when no policy can be used at all
// (the file is unreadable or invalid and nothing was applied before).
func NewManager(ctx context.Context, cfg Config) (*Manager, error) {
	if cfg.Store == nil {
		return nil, errors.New("policy: store is required")
	}
	if cfg.MaxDenyShare <= 0 || cfg.MaxDenyShare > 1 {
		cfg.MaxDenyShare = DefaultMaxDenyShare
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = clock.Now
	}
	m := &Manager{cfg: cfg, log: cfg.Logger}
	prev, err := m.loadActive(ctx)
	if err != nil {
		return nil, err
	}
	if prev != nil {
		m.cur.Store(prev)
		m.status = Status{ActiveVersion: prev.Version, ActiveHash: prev.Hash, ActiveSince: m.cfg.Now(), Source: prev.Source}
	}
	if err := m.reload(ctx); err != nil && !errors.Is(err, ErrHeld) {
		if prev == nil {
			return nil, err
		}
		m.log.Error("policy file not applied; keeping the last applied policy", "path", cfg.Path, "err", err)
	}
	m.mu.Lock()
	m.saveStatus(ctx)
	m.mu.Unlock()
	return m, nil
}

// Current returns the active set; never nil after NewManager.
func (m *Manager) Current() *Set { return m.cur.Load() }

// Status returns the manager's state.
func (m *Manager) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.status
}

// Reload reads the file and applies it if it changed and the guard allows.
// It returns ErrHeld when the change is held, and the parse error when the
// file is invalid; the active set is unchanged in both cases.
func (m *Manager) Reload(ctx context.Context) error {
	return m.reload(ctx)
}

// Watch reloads every interval (DefaultPollInterval if zero) and on every
// value from hup (SIGHUP), until ctx ends.
func (m *Manager) Watch(ctx context.Context, interval time.Duration, hup <-chan os.Signal) {
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			m.log.Info("reloading policy", "trigger", "sighup")
		case <-t.C:
		}
		if err := m.reload(ctx); err != nil && !errors.Is(err, ErrHeld) && ctx.Err() == nil {
			m.log.Warn("policy reload failed", "err", err)
		}
	}
}

func (m *Manager) read() (*Set, error) {
	if m.cfg.Path == "" {
		return Builtin(), nil
	}
	f, err := os.Open(m.cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, checks.MaxPolicySize+1))
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	s, err := Parse(data)
	if err != nil {
		sum := sha256.Sum256(data)
		return &Set{Hash: hex.EncodeToString(sum[:])}, fmt.Errorf("policy %s: %w", m.cfg.Path, err)
	}
	s.Source = m.cfg.Path
	return s, nil
}

func (m *Manager) reload(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	next, err := m.read()
	cur := m.cur.Load()
	if err != nil {
		m.reject(ctx, next, err)
		return err
	}
	if cur != nil && next.Hash == cur.Hash {
		if m.status.Held != nil {
			// The file went back to the active policy: nothing is held.
			m.status.Held = nil
			m.saveStatus(ctx)
		}
		return nil
	}
	if v, ok := m.appliedElsewhere(ctx, next.Hash, cur); ok {
		m.adopt(ctx, next, v)
		return nil
	}
	accepted := m.accepted(ctx, next.Hash)
	if cur != nil && !accepted && m.cfg.Impact != nil {
		if h := m.status.Held; h != nil && h.Hash == next.Hash {
			return ErrHeld
		}
		imp, err := m.cfg.Impact(ctx, cur, next)
		if err != nil {
			return fmt.Errorf("evaluate policy impact: %w", err)
		}
		if imp.Active > 0 && imp.Share > m.cfg.MaxDenyShare {
			m.hold(ctx, next, imp)
			return ErrHeld
		}
	}
	m.apply(ctx, cur, next, accepted)
	return nil
}

func (m *Manager) apply(ctx context.Context, cur, next *Set, accepted bool) {
	next.Version = 1
	if cur != nil {
		next.Version = cur.Version + 1
	}
	now := m.cfg.Now()
	rec, _ := json.Marshal(activeRecord{Version: next.Version, Hash: next.Hash, YAML: next.YAML, AppliedAt: now})
	if err := m.cfg.Store.PutState(ctx, stateActive, rec, now); err != nil {
		m.log.Error("store applied policy failed", "err", err)
	}
	m.cur.Store(next)
	m.status.ActiveVersion, m.status.ActiveHash, m.status.ActiveSince, m.status.Source = next.Version, next.Hash, now, next.Source
	m.status.Held, m.status.LastError, m.status.LastErrorAt = nil, "", time.Time{}
	m.rejected = ""
	m.saveStatus(ctx)
	m.log.Info("policy applied", "version", next.Version, "hash", next.Hash, "profiles", len(next.Profiles), "accepted_over_guard", accepted)
	m.audit(ctx, audit.KindPolicyApplied, map[string]any{"version": next.Version, "hash": next.Hash, "source": next.Source,
		"profiles": len(next.Profiles), "accepted_over_guard": accepted})
	if m.cfg.OnChange != nil {
		m.cfg.OnChange(next)
	}
}

// appliedElsewhere reports whether another server sharing the database
// (a replica) already applied the file with this hash as a newer version
// than cur, and which.
func (m *Manager) appliedElsewhere(ctx context.Context, hash string, cur *Set) (uint64, bool) {
	v, _, err := m.cfg.Store.State(ctx, stateActive)
	if err != nil {
		return 0, false
	}
	var rec activeRecord
	if json.Unmarshal(v, &rec) != nil || rec.Hash != hash || (cur != nil && rec.Version <= cur.Version) {
		return 0, false
	}
	return rec.Version, true
}

// adopt makes the policy another replica applied active here under the
// same version, without recording or announcing it a second time.
func (m *Manager) adopt(ctx context.Context, next *Set, version uint64) {
	next.Version = version
	now := m.cfg.Now()
	m.cur.Store(next)
	m.status.ActiveVersion, m.status.ActiveHash, m.status.ActiveSince, m.status.Source = next.Version, next.Hash, now, next.Source
	m.status.Held, m.status.LastError, m.status.LastErrorAt = nil, "", time.Time{}
	m.rejected = ""
	m.log.Info("policy adopted from another server", "version", next.Version, "hash", next.Hash)
	if m.cfg.OnChange != nil {
		m.cfg.OnChange(next)
	}
}

func (m *Manager) hold(ctx context.Context, next *Set, imp Impact) {
	m.status.Held = &Held{Hash: next.Hash, Since: m.cfg.Now(), Impact: imp, MaxDenyShare: m.cfg.MaxDenyShare}
	m.saveStatus(ctx)
	m.log.Error("policy change held: it would deny too many devices", "hash", next.Hash, "active", imp.Active,
		"newly_denied", imp.NewlyDenied, "share", imp.Share, "max_share", m.cfg.MaxDenyShare)
	m.audit(ctx, audit.KindPolicyHeld, map[string]any{"hash": next.Hash, "impact": imp, "max_deny_share": m.cfg.MaxDenyShare,
		"active_version": m.status.ActiveVersion})
}

func (m *Manager) reject(ctx context.Context, next *Set, err error) {
	m.status.LastError, m.status.LastErrorAt = err.Error(), m.cfg.Now()
	m.saveStatus(ctx)
	hash := ""
	if next != nil {
		hash = next.Hash
	}
	if hash != "" && hash == m.rejected {
		return
	}
	m.rejected = hash
	m.audit(ctx, audit.KindPolicyRejected, map[string]any{"hash": hash, "error": err.Error()})
}

func (m *Manager) audit(ctx context.Context, kind string, details any) {
	if m.cfg.Audit != nil {
		m.cfg.Audit.Record(ctx, audit.Entry{Actor: audit.ActorServer, Kind: kind, Details: details})
	}
}

func (m *Manager) saveStatus(ctx context.Context) {
	b, _ := json.Marshal(m.status)
	if err := m.cfg.Store.PutState(ctx, stateStatus, b, m.cfg.Now()); err != nil {
		m.log.Error("store policy status failed", "err", err)
	}
}

func (m *Manager) accepted(ctx context.Context, hash string) bool {
	v, _, err := m.cfg.Store.State(ctx, stateAccept)
	if err != nil {
		return false
	}
	var a acceptRecord
	return json.Unmarshal(v, &a) == nil && a.Hash == hash
}

// loadActive returns the last applied set, or nil on first start.
func (m *Manager) loadActive(ctx context.Context) (*Set, error) {
	s, err := storedActive(ctx, m.cfg.Store)
	if errors.Is(err, errStoredUnusable) {
		m.log.Warn("stored policy unusable; starting afresh", "err", err)
		return nil, nil
	}
	if s != nil && s.Hash != Builtin().Hash {
		s.Source = m.cfg.Path
	}
	return s, err
}

// errStoredUnusable: the stored policy no longer decodes or validates.
var errStoredUnusable = errors.New("stored policy unusable")

// storedActive returns the last applied set; nil when none was stored.
func storedActive(ctx context.Context, st store.LifecycleStore) (*Set, error) {
	v, _, err := st.State(ctx, stateActive)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var rec activeRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("%w: %w", errStoredUnusable, err)
	}
	s := Builtin()
	if rec.Hash != s.Hash {
		if s, err = Parse(rec.YAML); err != nil {
			// Validation may have tightened since; start from the file.
			return nil, fmt.Errorf("%w: %w", errStoredUnusable, err)
		}
	}
	s.Version = rec.Version
	return s, nil
}

// Applied returns the policy set the serving server last applied, as
// stored in st, for commands that decide without a running server; the
// built-in set when none was stored.
func Applied(ctx context.Context, st store.LifecycleStore) (*Set, error) {
	s, err := storedActive(ctx, st)
	if err != nil {
		return nil, fmt.Errorf("read the applied policy: %w", err)
	}
	if s == nil {
		return Builtin(), nil
	}
	return s, nil
}

// ReadStatus returns the status the serving manager last stored, for the
// command line.
func ReadStatus(ctx context.Context, st store.LifecycleStore) (Status, error) {
	v, _, err := st.State(ctx, stateStatus)
	if err != nil {
		return Status{}, fmt.Errorf("read policy status: %w", err)
	}
	var s Status
	if err := json.Unmarshal(v, &s); err != nil {
		return Status{}, fmt.Errorf("read policy status: %w", err)
	}
	return s, nil
}

// Accept lets the serving manager apply the held change with the given
// hash despite the guard, on its next reload (within DefaultPollInterval).
// The acceptance is audited under approver.
func Accept(ctx context.Context, st store.LifecycleStore, log *audit.Log, hash, approver string, now time.Time) error {
	if approver == "" {
		return errors.New("accept policy: approver is required")
	}
	s, err := ReadStatus(ctx, st)
	if err != nil {
		return err
	}
	if s.Held == nil || s.Held.Hash != hash {
		return fmt.Errorf("accept policy: no held change has hash %q", hash)
	}
	b, _ := json.Marshal(acceptRecord{Hash: hash, Approver: approver, At: now})
	if err := st.PutState(ctx, stateAccept, b, now); err != nil {
		return err
	}
	_, err = log.Append(ctx, audit.Entry{Actor: approver, Kind: audit.KindAdmin, At: now,
		Details: map[string]any{"action": "policy_accept", "hash": hash, "impact": s.Held.Impact}})
	return err
}
