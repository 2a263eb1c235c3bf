package events

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/postern-dev/postern/internal/clock"
	"github.com/postern-dev/postern/internal/jsonenc"
	"github.com/postern-dev/postern/server/metrics"
	"github.com/postern-dev/postern/server/store"
)

// HeaderSignature carries a webhook's signature:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">".
const HeaderSignature = "X-Postern-Signature"

// Webhook defaults.
const (
	DefaultWebhookAttempts = 8
	DefaultWebhookBackoff  = time.Second
	// DefaultWebhookPoll is how often a delivery loop reads the audit log
	// when no event wakes it.
	DefaultWebhookPoll = time.Second
	// DefaultLeaseRetry is how often a replica that does not deliver
	// webhooks tries to take over.
	DefaultLeaseRetry = 5 * time.Second
	maxWebhookBackoff = 2 * time.Minute
	webhookTimeout    = 10 * time.Second
	// stopGrace is how long a request in flight may still be answered
	// once the server stops.
	stopGrace = 2 * time.Second
	// saveTimeout bounds writing a position while the server stops.
	saveTimeout = 5 * time.Second
	// webhookPage bounds the audit rows read at a time.
	webhookPage = 100
	// cursorSaveEvery bounds how often a cursor moved only past rows that
	// are not events is written.
	cursorSaveEvery = time.Minute
)

// WebhookLease names the lease (store.TryLease) held by the one replica
// that delivers webhooks.
const WebhookLease = "webhooks"

// Webhook is one receiver of signed event deliveries.
type Webhook struct {
	URL    string
	Secret []byte
}

// Source reads events from the audit log (*Feed).
type Source interface {
	// Head returns the seq of the log's last row.
	Head(ctx context.Context) (uint64, error)
	// Read returns the events among up to limit rows after the seq
	// after, the seq of the last row read, and whether rows right after
	// after were pruned.
	Read(ctx context.Context, after uint64, limit int) (evs []Event, last uint64, gap bool, err error)
}

// WebhookStore keeps each hook's cursor (server state) and the delivery
// lease; store.Store has it.
type WebhookStore interface {
	State(ctx context.Context, name string) ([]byte, time.Time, error)
	PutState(ctx context.Context, name string, value []byte, at time.Time) error
	TryLease(ctx context.Context, name string) (store.Lease, error)
}

// WebhookConfig configures StartWebhooks. Source and Store are required.
type WebhookConfig struct {
	Hooks  []Webhook
	Source Source
	Store  WebhookStore
	// Bus, if set, wakes deliveries as soon as the feed publishes an
	// event; without it they notice within Poll.
	Bus *Bus
	// Client sends deliveries; a client with a 10 s timeout if nil.
	Client  *http.Client
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	Now     func() time.Time
	// Attempts bounds the deliveries of one event (DefaultWebhookAttempts);
	// an event still refused after them is skipped.
	Attempts int
	// Backoff is the first retry delay, doubled each time up to 2 minutes
	// (DefaultWebhookBackoff).
	Backoff time.Duration
	// Poll (DefaultWebhookPoll) and LeaseRetry (DefaultLeaseRetry).
	Poll, LeaseRetry time.Duration
}

// SignWebhook returns the X-Postern-Signature value of body sent at t.
func SignWebhook(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// StartWebhooks delivers every event of the audit log to every hook, in
// order per hook, until ctx ends; the returned channel is closed when it
// has stopped. Of the replicas sharing a database, only the one holding
// the WebhookLease delivers; the others try to take it over every
// LeaseRetry. Each hook's position (the seq of the last row it is done
// with) is kept in server state after every delivery, so a restart or a
// replica taking over continues where deliveries stopped: each event is
// delivered at least once, and more than once only when a replica stops
// between a delivery and the write of its position. A hook with no
// stored position starts at the log's end. A slow or failing receiver
// holds up only itself.
func StartWebhooks(ctx context.Context, cfg WebhookConfig) <-chan struct{} {
	done := make(chan struct{})
	if len(cfg.Hooks) == 0 {
		close(done)
		return done
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: webhookTimeout}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = clock.Now
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = DefaultWebhookAttempts
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = DefaultWebhookBackoff
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultWebhookPoll
	}
	if cfg.LeaseRetry <= 0 {
		cfg.LeaseRetry = DefaultLeaseRetry
	}
	go func() {
		defer close(done)
		for {
			lease, err := cfg.Store.TryLease(ctx, WebhookLease)
			switch {
			case err == nil:
				cfg.Logger.Info("this server delivers webhooks")
				deliverWhileHeld(ctx, &cfg, lease)
				lease.Release()
				if ctx.Err() == nil {
					cfg.Logger.Warn("webhook delivery lease lost; another server may take over")
				}
			case !errors.Is(err, store.ErrLeaseHeld) && ctx.Err() == nil:
				cfg.Logger.Warn("take the webhook delivery lease failed", "err", err)
			}
			t := time.NewTimer(cfg.LeaseRetry)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}()
	return done
}

// deliverWhileHeld runs every hook's delivery loop until ctx ends or the
// lease is lost.
func deliverWhileHeld(ctx context.Context, cfg *WebhookConfig, lease store.Lease) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	sinks := make([]*hookSink, len(cfg.Hooks))
	for i, h := range cfg.Hooks {
		sinks[i] = &hookSink{hook: h, cfg: cfg, wake: make(chan struct{}, 1), state: cursorState(h.URL),
			log: cfg.Logger.With("webhook", redactURL(h.URL))}
		wg.Go(func() { sinks[i].run(ctx) })
	}
	if cfg.Bus != nil {
		wg.Go(func() { wakeOnEvents(ctx, cfg.Bus, sinks) })
	}
	select {
	case <-ctx.Done():
	case <-lease.Lost():
	}
	cancel()
	wg.Wait()
}

// wakeOnEvents wakes every sink whenever the bus carries an event.
func wakeOnEvents(ctx context.Context, bus *Bus, sinks []*hookSink) {
	for ctx.Err() == nil {
		ch, _ := bus.Subscribe(ctx, 0)
		for range ch {
			for _, s := range sinks {
				s.poke()
			}
		}
		// Fell behind (or the bus closed): the sinks read the log anyway.
		for _, s := range sinks {
			s.poke()
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// cursorState names the server state holding a hook's position: the
// URL's hash, so that the secret-free URL is not repeated in the database.
func cursorState(url string) string {
	sum := sha256.Sum256([]byte(url))
	return "webhook_cursor:" + hex.EncodeToString(sum[:8])
}

// hookSink is one receiver's delivery loop and position.
type hookSink struct {
	hook  Webhook
	cfg   *WebhookConfig
	log   *slog.Logger
	wake  chan struct{}
	state string

	cursor  uint64
	saved   uint64
	savedAt time.Time
}

func (s *hookSink) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *hookSink) run(ctx context.Context) {
	if !s.load(ctx) {
		return
	}
	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	for {
		more, err := s.step(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.log.Warn("read events for webhook failed", "err", err)
		}
		if more && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}

// load reads the hook's position, or starts it at the log's end; false
// when ctx ended first.
func (s *hookSink) load(ctx context.Context) bool {
	for {
		v, _, err := s.cfg.Store.State(ctx, s.state)
		if err == nil {
			if s.cursor, err = strconv.ParseUint(string(v), 10, 64); err == nil {
				s.saved, s.savedAt = s.cursor, s.cfg.Now()
				return true
			}
			s.log.Warn("unreadable webhook position; starting at the end of the log", "value", string(v))
		}
		if err == nil || errors.Is(err, store.ErrNotFound) {
			if s.cursor, err = s.cfg.Source.Head(ctx); err == nil {
				s.save(ctx, true)
				return true
			}
		}
		if ctx.Err() != nil {
			return false
		}
		s.log.Warn("read webhook position failed", "err", err)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(s.cfg.Poll):
		}
	}
}

// step delivers the events of the next page of the log; more tells that
// the page was full.
func (s *hookSink) step(ctx context.Context) (more bool, err error) {
	from := s.cursor
	evs, last, gap, err := s.cfg.Source.Read(ctx, from, webhookPage)
	if err != nil {
		return false, err
	}
	if gap {
		// Audit retention removed rows this hook had not seen.
		s.log.Warn("webhook events were pruned before delivery; sending a reset", "after", s.cursor)
		reset := StreamEvent{ID: strconv.FormatUint(s.cursor, 10), EventType: EventTypeReset, EventTimestamp: s.cfg.Now().Unix()}
		if !s.deliver(ctx, reset) {
			return false, nil
		}
	}
	for _, e := range evs {
		if !s.deliver(ctx, NewStreamEvent(e)) {
			return false, nil // stopping: the next holder delivers it again
		}
		s.cursor = e.ID
		s.save(ctx, true)
	}
	s.cursor = last
	s.save(ctx, false)
	return last-from >= webhookPage, nil
}

// save writes the position after a delivery (force), or when it moved
// past other rows and was last written a while ago.
func (s *hookSink) save(ctx context.Context, force bool) {
	now := s.cfg.Now()
	if s.cursor == s.saved && !s.savedAt.IsZero() {
		return
	}
	if !force && now.Sub(s.savedAt) < cursorSaveEvery {
		return
	}
	// A delivered event's position is written even when the server is
	// stopping (ctx ended after the receiver accepted it): otherwise the
	// next lease holder sends it again on every graceful hand-over.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
	defer cancel()
	if err := s.cfg.Store.PutState(ctx, s.state, []byte(strconv.FormatUint(s.cursor, 10)), now); err != nil {
		s.log.Warn("store webhook position failed", "err", err)
		return
	}
	s.saved, s.savedAt = s.cursor, now
}

// deliver sends e until it is accepted (2xx) or the attempts run out, and
// then returns true; false when ctx ended first.
func (s *hookSink) deliver(ctx context.Context, e StreamEvent) bool {
	body, _ := jsonenc.Marshal(e)
	wait := s.cfg.Backoff
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			return false // stopping: no new request
		}
		err := s.post(ctx, e.ID, body)
		if err == nil {
			s.cfg.Metrics.WebhookAttempt("delivered")
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if attempt >= s.cfg.Attempts {
			s.cfg.Metrics.WebhookAttempt("dropped")
			s.log.Error("webhook delivery abandoned", "event_id", e.ID, "attempts", attempt, "err", err)
			return true
		}
		s.cfg.Metrics.WebhookAttempt("retried")
		s.log.Warn("webhook delivery failed, will retry", "event_id", e.ID, "attempt", attempt, "retry_in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		wait = min(2*wait, maxWebhookBackoff)
	}
}

func (s *hookSink) post(ctx context.Context, id string, body []byte) error {
	// A request already sent is given stopGrace to be answered when the
	// server stops, so that an event the receiver took is recorded as
	// delivered rather than sent again by the next lease holder.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), webhookTimeout)
	defer cancel()
	defer context.AfterFunc(ctx, func() { time.AfterFunc(stopGrace, cancel) })()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, s.hook.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "postern-server")
	req.Header.Set("X-Postern-Event-Id", id)
	req.Header.Set(HeaderSignature, SignWebhook(s.hook.Secret, s.cfg.Now(), body))
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("receiver answered %s", resp.Status)
	}
	return nil
}

// redactURL drops credentials and the query from a URL before it is
// logged: receivers sometimes carry tokens there.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable url)"
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}
