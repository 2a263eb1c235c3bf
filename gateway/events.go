package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxEventLine bounds one line of the stream.
const maxEventLine = 64 << 10

// Events follows the server's decision changes until ctx ends, then
// closes the channel. It reconnects after any failure, with growing
// waits, resuming after the last event received; when the server cannot
// resume (it restarted, or the gateway fell too far behind) an Event of
// type EventReset arrives, and the gateway should re-check every device it
// holds sessions for. A refused API key is retried too, slowly, and
// logged. The caller must keep reading the channel.
func (c *Client) Events(ctx context.Context) <-chan Event {
	out := make(chan Event, 64)
	go func() {
		defer close(out)
		var last string
		wait := c.backoff
		for ctx.Err() == nil {
			got, err := c.follow(ctx, &last, out)
			if ctx.Err() != nil {
				return
			}
			if got {
				wait = c.backoff
			}
			c.log.Warn("event stream interrupted, reconnecting", "err", err, "retry_in", wait, "last_event_id", last)
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			wait = min(2*wait, c.maxWait)
		}
	}()
	return out
}

// follow reads one connection of the stream. It reports whether anything
// arrived, so that a healthy connection resets the backoff.
func (c *Client) follow(ctx context.Context, last *string, out chan<- Event) (bool, error) {
	req, err := c.request(ctx, "/v1/events")
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "text/event-stream")
	if *last != "" {
		req.Header.Set("Last-Event-ID", *last)
	}
	resp, err := c.stream.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		return false, statusError(resp, body)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 4096), maxEventLine)
	var data strings.Builder
	var id string
	got := false
	for sc.Scan() {
		line := sc.Text()
		got = true
		switch {
		case line == "":
			if data.Len() > 0 {
				var e Event
				if err := json.Unmarshal([]byte(data.String()), &e); err != nil {
					return got, fmt.Errorf("decode event %s: %w", id, err)
				}
				select {
				case out <- e:
				case <-ctx.Done():
					return got, ctx.Err()
				}
				if id != "" {
					*last = id
				}
			}
			data.Reset()
			id = ""
		case strings.HasPrefix(line, ":"):
			// heartbeat or comment
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "id":
				id = value
			case "data":
				if data.Len() > 0 {
					data.WriteByte('\n')
				}
				data.WriteString(value)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return got, err
	}
	return got, errors.New("stream ended")
}
