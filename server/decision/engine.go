package decision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/exceptions"
	"github.com/postern-dev/postern/server/policy"
	"github.com/postern-dev/postern/server/store"
)

// Policies is where the engine gets the active policy set (*policy.Manager).
type Policies interface {
	Current() *policy.Set
}

// EngineConfig is what an Engine needs. Store and Policies are required;
// the rest are optional.
type EngineConfig struct {
	Store    store.Store
	Policies Policies
	// Index supplies exceptions and attestations; nil means none apply.
	Index *exceptions.Index
	Cache *Cache
	// Postures, if set, reuses posture reads for Decide (see
	// DefaultPostureTTL); Store must then be wrapped with ForgetOnWrite
	// over the same cache, where the server opens it. Nil reads the store
	// for every decision.
	Postures *PostureCache
	// Audit records decision changes, which makes them events (an
	// events.Feed reads them from the log); Recorder counts served
	// decisions.
	Audit    *audit.Log
	Recorder *audit.DecisionRecorder
	// Nudge, if set, is called after a change was recorded, so that the
	// event feed reads it at once instead of at its next poll.
	Nudge  func()
	Logger *slog.Logger
	Now    func() time.Time
}

// Engine makes decisions from everything the server knows (posture,
// policy profile, exceptions, attestation, lifecycle) and notices when a
// device's decision changes: it then records the change in the audit
// log, from which the event feed announces it.
//
// Several engines (server replicas) may share a store: the stored last
// decision is the reference, and it only changes by compare-and-swap, so
// whichever replica sees a change first records it, once.
type Engine struct {
	cfg EngineConfig
	log *slog.Logger

	mu   sync.Mutex
	last map[string]tracked
	// The change queue (announce.go), guarded by mu.
	changes changeQueue
}

type tracked struct {
	allow bool
	key   string
}

// NewEngine returns an engine; call Restore, then Sweep, before serving.
func NewEngine(cfg EngineConfig) *Engine {
	if cfg.Cache == nil {
		cfg.Cache = NewCache(DefaultCacheSize, DefaultCacheTTL)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = clock.Now
	}
	return &Engine{cfg: cfg, log: cfg.Logger, last: map[string]tracked{}, changes: newChangeQueue()}
}

// Lookup identifies a device by ID or by certificate hash.
type Lookup struct {
	DeviceID, CertSHA256 string
}

// Decide answers a gateway's question about a device (and user) now; the
// decision is counted for the audit log and compared with the device's
// previous one.
func (e *Engine) Decide(ctx context.Context, l Lookup, user string) (Decision, error) {
	now := e.cfg.Now()
	p, err := e.cfg.Postures.Posture(ctx, e.cfg.Store, l)
	if errors.Is(err, store.ErrNotFound) {
		d := Decide(Input{DeviceID: l.DeviceID, User: user}, e.cfg.Policies.Current().Default.Policy, now)
		if e.cfg.Recorder != nil {
			// Unknown identities are counted together: tracking each
			// would let a caller grow memory without bound.
			e.cfg.Recorder.Observe("", false, codes(d), now)
		}
		return d, nil
	}
	if err != nil {
		return Decision{}, err
	}
	set := e.cfg.Policies.Current()
	d, err := e.evaluate(p, set, set.For(p.Device.Org), user, now, true)
	if err != nil {
		return Decision{}, err
	}
	if e.cfg.Recorder != nil {
		e.cfg.Recorder.Observe(p.Device.ID, d.Allow, codes(d), now)
	}
	e.observe(ctx, p.Device, d, set.Version)
	return d, nil
}

// Current is the device's decision now, exactly as the decision API
// would answer it, without counting it as served or announcing a change:
// what the dashboard, the command line and the agent's acks show.
// It returns store.ErrNotFound for an unknown device.
func (e *Engine) Current(ctx context.Context, deviceID string) (Decision, error) {
	p, err := e.cfg.Postures.Posture(ctx, e.cfg.Store, Lookup{DeviceID: deviceID})
	if err != nil {
		return Decision{}, err
	}
	set := e.cfg.Policies.Current()
	return e.evaluate(p, set, set.For(p.Device.Org), "", e.cfg.Now(), true)
}

// Decided is one device of the fleet: its posture (the latest report
// without its body) and the decision for it.
type Decided struct {
	Posture  store.Posture
	Decision Decision
}

// All is Current for every device, by device ID, all decided at the same
// instant: the fleet's standing for counts and exports (Fleet).
func (e *Engine) All(ctx context.Context) (map[string]Decision, error) {
	fleet, err := e.Fleet(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Decision, len(fleet))
	for _, d := range fleet {
		out[d.Posture.Device.ID] = d.Decision
	}
	return out, nil
}

// Fleet is every device with its decision now, ordered by device ID, all
// decided at the same instant, as Current decides each: the fleet's
// standing for lists, counts and exports. Postures come from the posture
// cache's fleet (PostureCache.Fleet: read in bulk at most once a TTL, and
// the devices written since one by one); a report's body is read only
// when its verdicts are not cached (the periodic sweep keeps them
// cached). A report that cannot be read makes its device unknown
// (UnreadableReport), never the whole fleet fail.
func (e *Engine) Fleet(ctx context.Context) ([]Decided, error) {
	ps, err := e.cfg.Postures.Fleet(ctx, e.cfg.Store)
	if err != nil {
		return nil, err
	}
	set := e.cfg.Policies.Current()
	now := e.cfg.Now()
	out := make([]Decided, 0, len(ps))
	for _, p := range ps {
		d, err := e.evaluateIn(ctx, p, set, set.For(p.Device.Org), "", now, true)
		if errors.Is(err, errReportMoved) {
			d, err = e.Current(ctx, p.Device.ID)
		}
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("decide for device %s: %w", p.Device.ID, err)
		}
		out = append(out, Decided{Posture: p, Decision: d})
	}
	return out, nil
}

// Reevaluate decides for the device after something changed (it was
// revoked, attested) and publishes a change if there is one, returning
// once the change is recorded.
func (e *Engine) Reevaluate(ctx context.Context, deviceID string) error {
	p, err := e.cfg.Store.Posture(ctx, deviceID)
	if err != nil {
		return err
	}
	set := e.cfg.Policies.Current()
	d, err := e.evaluate(p, set, set.For(p.Device.Org), "", e.cfg.Now(), true)
	if err != nil {
		return err
	}
	if n := e.observe(ctx, p.Device, d, set.Version); n > 0 {
		return e.wait(ctx, n)
	}
	return nil
}

// Evaluated is a report's verdicts as Engine.Evaluate made them, before the
// report was stored: under the policy set Version, at At; Sequence is the
// stored report's, set once it is stored.
type Evaluated struct {
	Verdicts []checks.Verdict
	Version  uint64
	At       time.Time
	Sequence uint64
}

// Evaluate evaluates a report about to be stored under its organization's
// profile: ingest needs the verdicts for the failing controls it stores,
// and AfterReport keeps them for the stored report, so that each report is
// evaluated once.
func (e *Engine) Evaluate(org string, r *checks.Report, now time.Time) (*checks.Policy, Evaluated) {
	set := e.cfg.Policies.Current()
	p := set.For(org).Policy
	return p, Evaluated{Verdicts: checks.Evaluate(r, p, now), Version: set.Version, At: now}
}

// AfterReport is the device's decision right after its report was stored,
// for the agent's ack: Current, and a change it brings is queued to be
// recorded and announced (announce.go) without the ack waiting for it.
// ev, when it has a Sequence, is the stored report's evaluation, kept as
// its cached verdicts.
func (e *Engine) AfterReport(ctx context.Context, deviceID string, ev Evaluated) (Decision, error) {
	if ev.Sequence != 0 {
		e.cfg.Cache.Put(deviceID, ev.Sequence, ev.Version, ev.At, ev.Verdicts)
	}
	p, err := e.cfg.Postures.Posture(ctx, e.cfg.Store, Lookup{DeviceID: deviceID})
	if err != nil {
		return Decision{}, err
	}
	set := e.cfg.Policies.Current()
	d, err := e.evaluate(p, set, set.For(p.Device.Org), "", e.cfg.Now(), true)
	if err != nil {
		return Decision{}, err
	}
	e.observe(ctx, p.Device, d, set.Version)
	return d, nil
}

// Restore loads every device's last announced decision from the store, so
// that the next Sweep announces (event, webhook, audit) what changed while
// the server was down: a report gone stale, a grace period or an
// exception that ran out. Devices with no stored decision are recorded
// silently when first decided.
func (e *Engine) Restore(ctx context.Context) error {
	ds, err := e.cfg.Store.LastDecisions(ctx)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, d := range ds {
		e.last[d.DeviceID] = tracked{d.Allow, d.Reasons}
	}
	return nil
}

// persist stores the silent sweep's decisions; a failure is logged: the
// next change stores it again. What is stored is the device's decision
// in memory at the time of the write.
func (e *Engine) persist(ctx context.Context, ds ...store.LastDecision) {
	var todo []store.LastDecision
	e.mu.Lock()
	for _, d := range ds {
		if cur, ok := e.last[d.DeviceID]; ok && d.DeviceID != "" {
			d.Allow, d.Reasons = cur.allow, cur.key
			todo = append(todo, d)
		}
	}
	e.mu.Unlock()
	if len(todo) == 0 {
		return
	}
	if err := e.cfg.Store.PutLastDecisions(context.WithoutCancel(ctx), todo); err != nil {
		e.log.Warn("store last decisions failed", "devices", len(todo), "err", err)
	}
}

// Sweep re-decides every device, catching changes that no report causes:
// a stale report, a grace period or exception running out, a revocation
// made from the command line, a new policy. With silent set it only
// records the decisions, announcing nothing.
func (e *Engine) Sweep(ctx context.Context, silent bool) error {
	// A fresh bulk read, kept for the requests that follow: every device
	// in one query, the latest reports without their bodies, which are
	// read only for verdicts that are not cached.
	ps, err := e.cfg.Postures.Fill(ctx, e.cfg.Store)
	if err != nil {
		return err
	}
	set := e.cfg.Policies.Current()
	now := e.cfg.Now()
	seen := make(map[string]bool, len(ps))
	var changed []store.LastDecision
	defer func() { e.persist(ctx, changed...) }()
	var queued uint64
	for _, p := range ps {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		dev := p.Device
		seen[dev.ID] = true
		// Verdicts renewed before requests would find them expired.
		e.cfg.Cache.Expire(dev.ID, now, e.cfg.Cache.TTL()/2)
		d, err := e.evaluateIn(ctx, p, set, set.For(dev.Org), "", now, true)
		if errors.Is(err, errReportMoved) {
			// A report arrived since the bulk read; its ack decided it.
			continue
		}
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			e.log.Warn("sweep decision failed", "device_id", dev.ID, "err", err)
			continue
		}
		if silent {
			cur := tracked{d.Allow, key(d)}
			e.mu.Lock()
			prev, known := e.last[dev.ID]
			e.last[dev.ID] = cur
			e.mu.Unlock()
			if !known || prev != cur {
				changed = append(changed, store.LastDecision{DeviceID: dev.ID, Allow: cur.allow, Reasons: cur.key, DecidedAt: d.EvaluatedAt})
			}
			continue
		}
		if n := e.observe(ctx, p.Device, d, set.Version); n > 0 {
			queued = n
		}
	}
	e.mu.Lock()
	for id := range e.last {
		if !seen[id] {
			delete(e.last, id)
		}
	}
	e.mu.Unlock()
	// The sweep's changes are recorded in a few batches; the next sweep
	// starts after them.
	return e.wait(ctx, queued)
}

// Impact evaluates every active device under old and next, for the
// mass-failure guard (it is a policy.ImpactFunc).
func (e *Engine) Impact(ctx context.Context, old, next *policy.Set) (policy.Impact, error) {
	devs, err := e.cfg.Store.Devices(ctx)
	if err != nil {
		return policy.Impact{}, err
	}
	now := e.cfg.Now()
	var imp policy.Impact
	for _, dev := range devs {
		if dev.Revoked() || Inactive(dev.LastSeenAt, now) {
			continue
		}
		p, err := e.cfg.Store.Posture(ctx, dev.ID)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			return policy.Impact{}, err
		}
		imp.Active++
		before, err := e.evaluate(p, old, old.For(dev.Org), "", now, false)
		if err != nil {
			return policy.Impact{}, err
		}
		after, err := e.evaluate(p, next, next.For(dev.Org), "", now, false)
		if err != nil {
			return policy.Impact{}, err
		}
		if before.Allow && !after.Allow {
			imp.NewlyDenied++
			if len(imp.Examples) < 10 {
				imp.Examples = append(imp.Examples, dev.ID)
			}
		}
	}
	if imp.Active > 0 {
		imp.Share = float64(imp.NewlyDenied) / float64(imp.Active)
	}
	return imp, nil
}

// evaluate builds the decision input for a stored posture under a
// profile. cached uses the verdict cache, keyed on the set's version.
func (e *Engine) evaluate(p store.Posture, set *policy.Set, prof *policy.Profile, user string, now time.Time, cached bool) (Decision, error) {
	return e.evaluateIn(context.Background(), p, set, prof, user, now, cached)
}

// evaluateIn is evaluate for a posture whose latest report may lack its
// body (store.Postures): the body is then read from the store when needed.
func (e *Engine) evaluateIn(ctx context.Context, p store.Posture, set *policy.Set, prof *policy.Profile, user string, now time.Time, cached bool) (Decision, error) {
	dev := p.Device
	in := Input{DeviceID: dev.ID, User: user, Known: true, Revoked: dev.Revoked(), Approval: dev.Approval, FirstFailed: p.FirstFailed,
		Inactive: Inactive(dev.LastSeenAt, now)}
	in.Attestation = Attestation{Required: prof.Attestation.Required, MaxAge: prof.Attestation.MaxAge,
		Grace: prof.Attestation.Grace, EnrolledAt: dev.EnrolledAt}
	in.DeviceKey = DeviceKey{Kind: dev.KeyKind, RequireHardware: prof.DeviceKey.RequireHardware,
		Enforcement: prof.DeviceKey.Enforcement, Grace: prof.DeviceKey.Grace, EnrolledAt: dev.EnrolledAt}
	in.AgentVersion = AgentVersion{Version: dev.AgentVersion, Minimum: prof.AgentVersion.Minimum,
		Enforcement: prof.AgentVersion.Enforcement, Since: prof.AgentVersion.Since, Grace: prof.AgentVersion.Grace}
	if ix := e.cfg.Index; ix != nil {
		if at, ok := ix.AttestedAt(dev.ID); ok {
			in.Attestation.At = at
		}
		for id, x := range ix.Waived(dev.ID, dev.Org, now) {
			if in.Waived == nil {
				in.Waived = map[checks.ControlID]Waiver{}
			}
			in.Waived[id] = Waiver{ID: x.ID, ExpiresAt: x.ExpiresAt}
		}
	}
	if latest := p.Latest; latest != nil {
		in.HasReport = true
		in.PostureTime = PostureTime(latest.CollectedAt, latest.ReceivedAt)
		load := func() (*checks.Report, error) {
			body := latest.Body
			if body == nil {
				full, err := e.cfg.Store.Posture(ctx, dev.ID)
				if err != nil {
					return nil, err
				}
				if full.Latest == nil || full.Latest.Sequence != latest.Sequence {
					// A newer report arrived meanwhile; judge it.
					return nil, errReportMoved
				}
				body = full.Latest.Body
			}
			var r checks.Report
			if err := json.Unmarshal(body, &r); err != nil {
				return UnreadableReport(latest.Sequence, err), nil
			}
			return &r, nil
		}
		var err error
		if cached {
			in.Verdicts, err = e.cfg.Cache.Verdicts(dev.ID, latest.Sequence, set.Version, prof.Policy, now, load)
		} else {
			var r *checks.Report
			if r, err = load(); err == nil {
				in.Verdicts = checks.Evaluate(r, prof.Policy, now)
			}
		}
		if err != nil {
			return Decision{}, err
		}
	}
	return Decide(in, prof.Policy, now), nil
}

// UnreadableReport stands for a stored report whose body does not decode
// (a damaged row): every control is unknown with the reason, so that the
// device is decided as one whose controls could not be determined (denied,
// or allowed where the policy allows unknown) on every surface alike,
// and a list of the fleet still shows every other device.
func UnreadableReport(seq uint64, err error) *checks.Report {
	r := &checks.Report{Observations: make([]checks.Observation, 0, len(checks.AllControlIDs))}
	reason := fmt.Sprintf("the server cannot read its stored report %d (%v)", seq, err)
	for _, id := range checks.AllControlIDs {
		r.Observations = append(r.Observations, checks.Observation{ID: id, UnknownReason: reason})
	}
	return r
}

// errReportMoved: a bulk-read posture's latest report was replaced
// before its body was read.
var errReportMoved = errors.New("latest report replaced while reading")

// codes lists a decision's deny reasons as "code" or "code:control".
func codes(d Decision) []string {
	out := make([]string, 0, len(d.Reasons))
	for _, r := range d.Reasons {
		if r.Control != "" {
			out = append(out, r.Code+":"+r.Control)
		} else {
			out = append(out, r.Code)
		}
	}
	slices.Sort(out)
	return out
}

func key(d Decision) string { return strings.Join(codes(d), ",") }

func splitKey(k string) []string {
	if k == "" {
		return []string{}
	}
	return strings.Split(k, ",")
}

func summary(d Decision) string {
	if d.Allow {
		return "the device meets the policy"
	}
	msgs := make([]string, 0, len(d.Reasons))
	for _, r := range d.Reasons {
		msgs = append(msgs, r.Message)
	}
	return strings.Join(msgs, "; ")
}
