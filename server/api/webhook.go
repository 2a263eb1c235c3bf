package api

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/postern-dev/postern/server/events"
	"github.com/postern-dev/postern/server/metrics"
)

// HeaderSignature carries a webhook's signature:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">".
const HeaderSignature = "X-Postern-Signature"

// Webhook defaults.
const (
	DefaultWebhookQueue    = 1000
	DefaultWebhookAttempts = 8
	DefaultWebhookBackoff  = time.Second
	maxWebhookBackoff      = 2 * time.Minute
	webhookTimeout         = 10 * time.Second
)

// Webhook is one receiver of signed event deliveries.
type Webhook struct {
	URL    string
	Secret []byte
}

// WebhookConfig configures RunWebhooks. Bus is required.
type WebhookConfig struct {
	Hooks []Webhook
	Bus   *events.Bus
	// Client sends deliveries; a client with a 10 s timeout if nil.
	Client  *http.Client
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	Now     func() time.Time
	// Queue bounds each hook's undelivered events (DefaultWebhookQueue);
	// when full, the oldest is dropped, and the receiver gets a reset
	// event so it knows to re-check its sessions.
	Queue int
	// Attempts bounds the deliveries of one event (DefaultWebhookAttempts).
	Attempts int
	// Backoff is the first retry delay, doubled each time up to 2 minutes
	// (DefaultWebhookBackoff).
	Backoff time.Duration
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

// StartWebhooks delivers every event published on the bus from now on to
// every hook, in order per hook, until ctx ends; the returned channel is
// closed when it has stopped. A slow or failing receiver holds up only
// itself.
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
		cfg.Now = time.Now
	}
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultWebhookQueue
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = DefaultWebhookAttempts
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = DefaultWebhookBackoff
	}
	var wg sync.WaitGroup
	sinks := make([]*hookSink, len(cfg.Hooks))
	for i, h := range cfg.Hooks {
		sinks[i] = &hookSink{hook: h, cfg: &cfg, wake: make(chan struct{}, 1),
			log: cfg.Logger.With("webhook", redactURL(h.URL))}
		wg.Go(func() { sinks[i].run(ctx) })
	}
	ch, _ := cfg.Bus.Subscribe(ctx, 0)
	go func() {
		defer close(done)
		fanOut(ctx, &cfg, ch, sinks)
		wg.Wait()
	}()
	return done
}

// fanOut copies events from ch to every sink, resubscribing (and resuming
// from the last event seen) whenever the bus drops the subscription.
func fanOut(ctx context.Context, cfg *WebhookConfig, ch <-chan events.Event, sinks []*hookSink) {
	var last uint64
	for first := true; ctx.Err() == nil; first = false {
		if !first {
			var complete bool
			ch, complete = cfg.Bus.Subscribe(ctx, last)
			if !complete {
				reset := StreamEvent{ID: strconv.FormatUint(cfg.Bus.LastID(), 10), EventType: EventTypeReset, EventTimestamp: cfg.Now().Unix()}
				for _, s := range sinks {
					s.push(reset)
				}
			}
		}
		for e := range ch {
			last = e.ID
			se := NewStreamEvent(e)
			for _, s := range sinks {
				s.push(se)
			}
		}
		// Fell behind (or the bus closed): resubscribe after a breath.
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// hookSink is one receiver's bounded queue and delivery loop.
type hookSink struct {
	hook Webhook
	cfg  *WebhookConfig
	log  *slog.Logger
	wake chan struct{}

	mu      sync.Mutex
	queue   []StreamEvent
	dropped bool
}

func (s *hookSink) push(e StreamEvent) {
	s.mu.Lock()
	if len(s.queue) >= s.cfg.Queue {
		s.queue = s.queue[1:]
		if !s.dropped {
			s.log.Warn("webhook queue full, dropping oldest events")
		}
		s.dropped = true
		s.cfg.Metrics.WebhookAttempt("dropped")
	}
	s.queue = append(s.queue, e)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// next pops the next event; after drops it first yields a reset.
func (s *hookSink) next() (StreamEvent, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		return StreamEvent{}, false
	}
	if s.dropped {
		s.dropped = false
		return StreamEvent{ID: s.queue[0].ID, EventType: EventTypeReset, EventTimestamp: s.cfg.Now().Unix()}, true
	}
	e := s.queue[0]
	s.queue = s.queue[1:]
	return e, true
}

func (s *hookSink) run(ctx context.Context) {
	for {
		e, ok := s.next()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-s.wake:
				continue
			}
		}
		s.deliver(ctx, e)
	}
}

// deliver sends e until it is accepted (2xx), the attempts run out, or ctx
// ends.
func (s *hookSink) deliver(ctx context.Context, e StreamEvent) {
	body, _ := json.Marshal(e)
	wait := s.cfg.Backoff
	for attempt := 1; ; attempt++ {
		err := s.post(ctx, e.ID, body)
		if err == nil {
			s.cfg.Metrics.WebhookAttempt("delivered")
			return
		}
		if ctx.Err() != nil {
			return
		}
		if attempt >= s.cfg.Attempts {
			s.cfg.Metrics.WebhookAttempt("dropped")
			s.log.Error("webhook delivery abandoned", "event_id", e.ID, "attempts", attempt, "err", err)
			return
		}
		s.cfg.Metrics.WebhookAttempt("retried")
		s.log.Warn("webhook delivery failed, will retry", "event_id", e.ID, "attempt", attempt, "retry_in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, maxWebhookBackoff)
	}
}

func (s *hookSink) post(ctx context.Context, id string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.hook.URL, bytes.NewReader(body))
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
