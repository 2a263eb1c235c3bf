package watch

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/internal/clock"
)

// Reasons passed to a trigger.
const (
	ReasonSettings = "settings_changed"
	ReasonNetwork  = "network_changed"
	ReasonResume   = "resumed"
)

// Trigger asks the agent to check now; it must not block.
type Trigger func(reason string)

// Defaults of the watchers.
const (
	DefaultSettingsEvery = 15 * time.Second
	DefaultNetworkEvery  = 3 * time.Second
	DefaultResumeEvery   = 5 * time.Second
	// resumeSlack is how much later than expected a tick may come, or how
	// far the wall clock may drift from the monotonic one, before it
	// counts as a resume.
	resumeSlack = 20 * time.Second
	// settleDelay lets a burst of network events end before comparing.
	settleDelay = 500 * time.Millisecond
)

// CheapControls are polled for changes: collecting them is fast and does
// not touch the network.
var CheapControls = []checks.ControlID{checks.Firewall, checks.ScreenLock}

// Settings polls the facts of a few controls and triggers when their hash
// changes. The first poll sets the baseline. A poll first re-asks only
// what is cheap (a stat per file the collectors read, their globs and
// listings, registry values; the commands) and collects
// only when one of those answers changed (see pollHost).
type Settings struct {
	Host     host.Host
	Controls []checks.ControlID
	Every    time.Duration
	// CommandEvery is how often a poll re-runs commands and WMI queries
	// (every poll if zero).
	CommandEvery time.Duration
	// NotifyFiles says Host reads this machine's own files (not a
	// recording): their directories are then watched (inotify on Linux),
	// a change polls at once, and a poll does not stat files in watched
	// directories that had no event (each is still stat'ed every minute).
	NotifyFiles bool
	// Now is time.Now by default.
	Now    func() time.Time
	Logger *slog.Logger
}

// Run polls until ctx ends.
func (s Settings) Run(ctx context.Context, trigger Trigger) {
	every := cmpOr(s.Every, DefaultSettingsEvery)
	ids := s.Controls
	if ids == nil {
		ids = CheapControls
	}
	now := s.Now
	if now == nil {
		now = clock.Now
	}
	ph := newPollHost(s.Host, s.CommandEvery, now)
	var wake chan struct{} // nil: no notifications
	if s.NotifyFiles {
		w := make(chan struct{}, 1)
		if n, err := newFileNotifier(ctx, w); err == nil {
			defer n.close()
			ph.notifyFiles(n)
			wake = w
		} else if s.Logger != nil {
			s.Logger.Debug("file change notifications unavailable; the settings poll stats the files it read", "error", err.Error())
		}
	}
	last, _ := s.hash(ctx, ph, ids)
	ph.watchRecorded()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-wake:
			ph.markDirty()
			// A save is often several events: let them end.
			select {
			case <-ctx.Done():
				return
			case <-time.After(settleDelay):
			}
			select {
			case <-wake:
			default:
			}
		}
		if ph.unchanged(ctx) {
			continue
		}
		h, ok := s.hash(ctx, ph, ids)
		ph.watchRecorded()
		if !ok {
			continue
		}
		if h != last {
			last = h
			trigger(ReasonSettings)
		}
	}
}

// settingsTimeout bounds one poll; a poll that hits it is ignored rather
// than read as a change.
const settingsTimeout = 10 * time.Second

// hash collects each control's facts (or its error) and hashes them; ok is
// false when the poll timed out or ctx ended.
func (s Settings) hash(ctx context.Context, ph *pollHost, ids []checks.ControlID) (_ [sha256.Size]byte, ok bool) {
	ctx, cancel := context.WithTimeout(ctx, settingsTimeout)
	defer cancel()
	ph.begin()
	defer ph.end()
	sum := sha256.New()
	for _, id := range ids {
		fmt.Fprintf(sum, "%s\x00", id)
		c, ok := checks.Lookup(id)
		if !ok || c.Collect == nil {
			continue
		}
		b, err := collect(ctx, ph, c)
		if err != nil {
			fmt.Fprintf(sum, "error:%v\x00", err)
			continue
		}
		sum.Write(b)
		sum.Write([]byte{0})
	}
	var out [sha256.Size]byte
	sum.Sum(out[:0])
	return out, ctx.Err() == nil
}

// collect runs one collector, turning a panic into an error as
// checks.Collect does.
func collect(ctx context.Context, h host.Host, c checks.Control) (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("collector crashed: %v", r)
		}
	}()
	facts, err := c.Collect(ctx, h)
	if err != nil {
		return nil, err
	}
	return json.Marshal(facts)
}

// Network triggers when the set of up interfaces or their addresses
// changes. It compares a fingerprint when the OS signals a change
// (rtnetlink, the route socket, NotifyIpInterfaceChange: see
// notify_*.go); only where no notification is available does it poll,
// every Every. Listing interfaces is most of an idle agent's work when
// done every few seconds.
type Network struct {
	Every  time.Duration
	Logger *slog.Logger
	// Fingerprint describes the network state; Interfaces by default.
	Fingerprint func() (string, error)
	// Notify subscribes to the OS's change notifications, signalling
	// wake on each, and returns a function that waits for it to stop
	// once ctx ends; the OS's (notify_*.go) by default. An error means
	// polling.
	Notify func(ctx context.Context, wake chan<- struct{}) (func(), error)
}

// Run watches until ctx ends.
func (n Network) Run(ctx context.Context, trigger Trigger) {
	fp := n.Fingerprint
	if fp == nil {
		fp = Interfaces
	}
	log := n.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	wake := make(chan struct{}, 1)
	var poll <-chan time.Time // nil: never, while notifications work
	subscribe := n.Notify
	if subscribe == nil {
		subscribe = notify
	}
	stop, err := subscribe(ctx, wake)
	if err != nil {
		log.Warn("network change notifications unavailable, polling", "error", err.Error())
		tick := time.NewTicker(cmpOr(n.Every, DefaultNetworkEvery))
		defer tick.Stop()
		poll = tick.C
	} else {
		defer stop()
	}
	last, _ := fp()
	for {
		select {
		case <-ctx.Done():
			return
		case <-poll:
		case <-wake:
			// A change comes as a burst of messages; compare after it.
			if !sleep(ctx, settleDelay) {
				return
			}
			select {
			case <-wake:
			default:
			}
		}
		cur, err := fp()
		if err != nil {
			continue
		}
		if cur != last {
			last = cur
			trigger(ReasonNetwork)
		}
	}
}

// Interfaces fingerprints the up, non-loopback interfaces and their
// addresses. Names and addresses stay in memory; only their hash matters.
func Interfaces() (string, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return "", err
	}
	var parts []string
	for _, i := range ifs {
		if i.Flags&net.FlagUp == 0 || i.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := i.Addrs()
		as := make([]string, 0, len(addrs))
		for _, a := range addrs {
			as = append(as, a.String())
		}
		slices.Sort(as)
		parts = append(parts, fmt.Sprintf("%s|%v|%v", i.Name, i.Flags, as))
	}
	slices.Sort(parts)
	sum := sha256.Sum256(fmt.Append(nil, parts))
	return fmt.Sprintf("%x", sum), nil
}

// Resume triggers when the machine comes back from sleep: a tick arrives
// far later than scheduled, or the wall clock moved away from the
// monotonic clock (which stops during sleep on Linux and macOS).
type Resume struct {
	Every time.Duration
	// Now is clock.Now by default; tests give a clock whose wall time jumps.
	Now func() time.Time
	// Ticks replaces the ticker in tests.
	Ticks <-chan time.Time
}

// Run watches until ctx ends.
func (r Resume) Run(ctx context.Context, trigger Trigger) {
	now := r.Now
	if now == nil {
		now = clock.Now
	}
	every := cmpOr(r.Every, DefaultResumeEvery)
	ticks := r.Ticks
	if ticks == nil {
		t := time.NewTicker(every)
		defer t.Stop()
		ticks = t.C
	}
	last := now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticks:
		}
		cur := now()
		if Resumed(last, cur, every) {
			trigger(ReasonResume)
		}
		last = cur
	}
}

// Resumed reports whether the time between two ticks every apart shows a
// sleep: the wall clock advanced much more than expected, or much more
// than the monotonic clock did.
func Resumed(prev, cur time.Time, every time.Duration) bool {
	wall := cur.Round(0).Sub(prev.Round(0))
	mono := cur.Sub(prev) // monotonic when both readings carry it
	return wall > every+resumeSlack || wall-mono > resumeSlack
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
