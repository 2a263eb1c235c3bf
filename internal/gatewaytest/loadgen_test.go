package gatewaytest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// loadRun describes one run of the load generator: conns workers, each on
// its own keep-alive connection (its own client, so that each can present
// its own client certificate), asking back to back for a duration.
type loadRun struct {
	conns int
	// client returns worker i's client.
	client func(i int) *http.Client
	// request returns worker i's n-th request.
	request func(i, n int) *http.Request
	// status is the answer every request must get.
	status int
}

// loadResult is what a run measured.
type loadResult struct {
	count, errors int
	took          time.Duration
	p50, p99      time.Duration
	// cpu is this process's CPU time during the run (load generator
	// and whatever servers run in-process): steadier than rates on a
	// shared machine.
	cpu      time.Duration
	firstErr string
}

func (r loadResult) rate() float64 { return float64(r.count) / r.took.Seconds() }

func (r loadResult) String() string {
	return fmt.Sprintf("%8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  %5.1f µs CPU/req in-process  (%d requests, %d errors)",
		r.rate(), ms(r.p50), ms(r.p99), r.cpuPer(), r.count, r.errors)
}

// cpuPer is the in-process CPU time per request, in microseconds.
func (r loadResult) cpuPer() float64 {
	if r.count == 0 {
		return 0
	}
	return float64(r.cpu.Microseconds()) / float64(r.count)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// run drives the load for d after a warm-up of its own (connections
// opened, caches filled), which is not counted.
func (l loadRun) run(ctx context.Context, d time.Duration) loadResult {
	clients := make([]*http.Client, l.conns)
	for i := range clients {
		clients[i] = l.client(i)
	}
	l.drive(ctx, clients, d/5)
	return l.drive(ctx, clients, d)
}

func (l loadRun) drive(ctx context.Context, clients []*http.Client, d time.Duration) loadResult {
	var mu sync.Mutex
	var res loadResult
	var lat []time.Duration
	var wg sync.WaitGroup
	start, cpu0 := time.Now(), processCPU()
	deadline := start.Add(d)
	for i, c := range clients {
		wg.Go(func() {
			mine := make([]time.Duration, 0, 4096)
			var errs int
			var first string
			for n := 0; time.Now().Before(deadline) && ctx.Err() == nil; n++ {
				req := l.request(i, n)
				t := time.Now()
				resp, err := c.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != l.status {
						err = fmt.Errorf("status %d, want %d", resp.StatusCode, l.status)
					}
				}
				if err != nil {
					errs++
					if first == "" {
						first = err.Error()
					}
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			defer mu.Unlock()
			lat = append(lat, mine...)
			res.errors += errs
			if res.firstErr == "" {
				res.firstErr = first
			}
		})
	}
	wg.Wait()
	res.took, res.cpu = time.Since(start), processCPU()-cpu0
	res.count = len(lat)
	if len(lat) > 0 {
		slices.Sort(lat)
		res.p50 = lat[len(lat)/2]
		res.p99 = lat[len(lat)*99/100]
	}
	return res
}

// median returns the middle value of xs (the lower middle for an even
// count).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}
