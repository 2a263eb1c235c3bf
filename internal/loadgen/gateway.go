package loadgen

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	mrand "math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postern-dev/postern/gateway"
)

// gateways asks for decisions and follows the event stream as EHR
// gateways do, through the gateway client package.
type gateways struct {
	wg             sync.WaitGroup
	mu             sync.Mutex
	decisions      []time.Duration
	decisionErrors atomic.Int64
	eventDelays    []time.Duration
	// pending is when each device last flipped, until its event arrives.
	pending sync.Map // device ID -> flip
}

type flip struct {
	at        time.Time
	compliant bool
}

// flipped records that a device is about to report a changed compliance.
func (g *gateways) flipped(device string, compliant bool) {
	g.pending.Store(device, flip{at: time.Now(), compliant: compliant}) // wall clock: latency measurement
}

func startGateways(ctx context.Context, cfg Config, httpsAddr string, roots *x509.CertPool, apiKey string, agents []*agent) (*gateways, error) {
	g := &gateways{}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost"}, MaxIdleConnsPerHost: 64}}
	c, err := gateway.New("https://"+httpsAddr, apiKey, gateway.WithHTTPClient(hc), gateway.WithRootCAs(roots))
	if err != nil {
		return nil, err
	}
	for i := range cfg.Followers {
		// An event stream is long-lived: no client timeout.
		sc, err := gateway.New("https://"+httpsAddr, apiKey, gateway.WithRootCAs(roots), gateway.WithReconnect(100*time.Millisecond, 2*time.Second))
		if err != nil {
			return nil, err
		}
		events := sc.Events(ctx)
		first := i == 0 // one follower measures; the others are load
		g.wg.Go(func() {
			for e := range events {
				if e.EventType != gateway.EventComplianceChange || !first {
					continue
				}
				v, ok := g.pending.Load(e.DeviceID)
				if !ok {
					continue
				}
				f := v.(flip)
				if (e.CurrentStatus == gateway.StatusCompliant) != f.compliant {
					continue // an older change; the latest is still due
				}
				g.pending.CompareAndDelete(e.DeviceID, v)
				g.mu.Lock()
				g.eventDelays = append(g.eventDelays, time.Since(f.at)) // wall clock: latency measurement
				g.mu.Unlock()
			}
		})
	}
	if cfg.Gateways > 0 && cfg.DecisionRate > 0 {
		period := time.Duration(float64(cfg.Gateways) / cfg.DecisionRate * float64(time.Second))
		for range cfg.Gateways {
			g.wg.Go(func() {
				t := time.NewTicker(period)
				defer t.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case <-t.C:
					}
					a := agents[mrand.IntN(len(agents))]
					t0 := time.Now() // wall clock: latency measurement
					_, err := c.Decide(ctx, gateway.DeviceQuery{DeviceID: a.device})
					if err != nil {
						if ctx.Err() == nil {
							g.decisionErrors.Add(1)
						}
						continue
					}
					g.mu.Lock()
					g.decisions = append(g.decisions, time.Since(t0)) // wall clock: latency measurement
					g.mu.Unlock()
				}
			})
		}
	}
	return g, nil
}

func (g *gateways) wait() { g.wg.Wait() }
