package alerts

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/postern-dev/postern/internal/clock"
)

// Channel delivers a batch somewhere: email, Slack, Teams.
type Channel interface {
	// Name identifies the channel in logs; never a secret.
	Name() string
	Send(ctx context.Context, b Batch) error
}

// Defaults of Config.
const (
	DefaultBatchWindow = time.Minute
	DefaultMaxPerHour  = 12
	DefaultAttempts    = 5
	DefaultBackoff     = 5 * time.Second
	maxBackoff         = 5 * time.Minute
	// sendTimeout bounds one send.
	sendTimeout = 30 * time.Second
	// maxPending bounds each channel's queue; older alerts are dropped
	// past it, and counted in the next message.
	maxPending = 1000
	// maxPerMessage bounds the alerts listed in one message.
	maxPerMessage = 50
)

// Config configures a Dispatcher.
type Config struct {
	Channels []Channel
	// BatchWindow is how long Run waits after an alert for others to
	// join it in one message.
	BatchWindow time.Duration
	// MaxPerHour bounds the messages sent to one channel in any hour;
	// alerts raised meanwhile wait and go together in the next one.
	MaxPerHour int
	// Attempts bounds the sends of one message; Backoff is the first
	// wait between them, doubled each time up to 5 minutes.
	Attempts int
	Backoff  time.Duration
	Now      func() time.Time
	// Sleep waits d or until ctx ends (tests pass one that moves their
	// clock); a timer when nil.
	Sleep  func(ctx context.Context, d time.Duration) error
	Logger *slog.Logger
}

// Dispatcher queues alerts per channel and sends them in batches.
type Dispatcher struct {
	cfg  Config
	wake chan struct{}

	mu    sync.Mutex
	chans []*channelQueue
}

type channelQueue struct {
	ch      Channel
	pending []Alert
	dropped int
	sent    []time.Time // send times within the last hour
}

// New returns a Dispatcher over cfg's channels.
func New(cfg Config) *Dispatcher {
	if cfg.BatchWindow <= 0 {
		cfg.BatchWindow = DefaultBatchWindow
	}
	if cfg.MaxPerHour <= 0 {
		cfg.MaxPerHour = DefaultMaxPerHour
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = DefaultAttempts
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.Now == nil {
		cfg.Now = clock.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Dispatcher{cfg: cfg, wake: make(chan struct{}, 1)}
	for _, c := range cfg.Channels {
		d.chans = append(d.chans, &channelQueue{ch: c})
	}
	return d
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Raise queues a for every channel; it never blocks. A zero At is now.
func (d *Dispatcher) Raise(a Alert) {
	if a.At.IsZero() {
		a.At = d.cfg.Now()
	}
	// Titles and texts carry names devices chose (host names): no line
	// breaks or control characters reach a mail header or a chat message.
	a.Title, a.Text = clean(a.Title, 200), clean(a.Text, 2000)
	d.mu.Lock()
	for _, q := range d.chans {
		if len(q.pending) >= maxPending {
			q.pending = q.pending[1:]
			q.dropped++
		}
		q.pending = append(q.pending, a)
	}
	d.mu.Unlock()
	d.cfg.Logger.Info("alert raised", "kind", string(a.Kind), "title", a.Title)
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Flush sends each channel its pending alerts as one message, if its
// hourly limit allows, retrying with backoff; alerts of a channel that
// still fails stay queued for the next flush. Channels are sent to at
// once, so a slow one holds up only itself.
func (d *Dispatcher) Flush(ctx context.Context) {
	var wg sync.WaitGroup
	for _, q := range d.chans {
		b, ok := d.take(q)
		if !ok {
			continue
		}
		wg.Go(func() {
			if !d.send(ctx, q.ch, b) {
				d.putBack(q, b)
			}
		})
	}
	wg.Wait()
}

// take removes the next message's alerts from q if q may send now.
func (d *Dispatcher) take(q *channelQueue) (Batch, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(q.pending) == 0 {
		return Batch{}, false
	}
	now := d.cfg.Now()
	i := 0
	for i < len(q.sent) && now.Sub(q.sent[i]) >= time.Hour {
		i++
	}
	q.sent = q.sent[i:]
	if len(q.sent) >= d.cfg.MaxPerHour {
		return Batch{}, false
	}
	q.sent = append(q.sent, now)
	n := min(len(q.pending), maxPerMessage)
	b := Batch{Alerts: q.pending[:n:n], Omitted: len(q.pending) - n + q.dropped}
	// The listed alerts are sent; the rest are only counted in this
	// message and not sent again (a flood must not queue for hours).
	q.pending, q.dropped = nil, 0
	return b, true
}

// putBack queues a batch that could not be sent before what came since.
func (d *Dispatcher) putBack(q *channelQueue, b Batch) {
	d.mu.Lock()
	defer d.mu.Unlock()
	q.pending = append(append([]Alert(nil), b.Alerts...), q.pending...)
	q.dropped += b.Omitted
	if over := len(q.pending) - maxPending; over > 0 {
		q.pending = q.pending[over:]
		q.dropped += over
	}
}

// send delivers b to c, retrying with backoff; false when every attempt
// failed or ctx ended.
func (d *Dispatcher) send(ctx context.Context, c Channel, b Batch) bool {
	wait := d.cfg.Backoff
	for attempt := 1; ; attempt++ {
		// A send under way finishes even when the server stops: cut off
		// after the receiver took the message, it would be sent again by
		// the final flush.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
		err := c.Send(sctx, b)
		cancel()
		if err == nil {
			d.cfg.Logger.Info("alerts sent", "channel", c.Name(), "alerts", len(b.Alerts), "omitted", b.Omitted)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if attempt >= d.cfg.Attempts {
			d.cfg.Logger.Error("alert delivery failed; kept for the next batch", "channel", c.Name(), "attempts", attempt, "err", err)
			return false
		}
		d.cfg.Logger.Warn("alert delivery failed, will retry", "channel", c.Name(), "attempt", attempt, "retry_in", wait, "err", err)
		if d.cfg.Sleep(ctx, wait) != nil {
			return false
		}
		wait = min(2*wait, maxBackoff)
	}
}

// Run flushes BatchWindow after the first alert of each batch, and
// every minute while alerts wait (for an hourly limit or a failed
// channel), until ctx ends; then it flushes once more.
func (d *Dispatcher) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			d.finalFlush(ctx)
			return
		case <-d.wake:
		case <-time.After(time.Minute):
			if !d.waiting() {
				continue
			}
		}
		if d.cfg.Sleep(ctx, d.cfg.BatchWindow) != nil {
			d.finalFlush(ctx)
			return
		}
		d.Flush(ctx)
	}
}

func (d *Dispatcher) waiting() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, q := range d.chans {
		if len(q.pending) > 0 {
			return true
		}
	}
	return false
}

// finalFlush sends what is queued when the server stops, for at most
// 10 seconds.
func (d *Dispatcher) finalFlush(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	d.Flush(ctx)
}

// clean replaces control characters with spaces and cuts s to at most
// limit runes.
func clean(s string, limit int) string {
	out := []rune(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
	if len(out) > limit {
		out = append(out[:limit-1], '…')
	}
	return string(out)
}

// Pending is how many channels still have alerts waiting.
func (d *Dispatcher) Pending() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, q := range d.chans {
		if len(q.pending) > 0 {
			n++
		}
	}
	return n
}
