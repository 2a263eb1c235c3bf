package api

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/postern-dev/postern/internal/jsonenc"
	"github.com/postern-dev/postern/server/events"
	"github.com/postern-dev/postern/server/metrics"
	"github.com/postern-dev/postern/server/store"
)

// DefaultStreamWriteTimeout bounds each write to an event-stream client:
// a reader that takes longer to accept one flush is stuck and is dropped.
const DefaultStreamWriteTimeout = 10 * time.Second

// Limits of the event stream.
const (
	// sseRetryMillis is the reconnection delay suggested to clients.
	sseRetryMillis = 2000
	maxLastEventID = 20
)

// events serves GET /v1/events: decision changes as Server-Sent Events,
// resuming after Last-Event-ID (header, or last_event_id query parameter
// for clients that cannot set headers) from the bus's bounded memory.
// Event IDs are audit log seqs (events.Feed), so an ID from another
// replica or from before a restart resumes without a reset.
func (a *api) events(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Events == nil {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "the event stream is not enabled"})
		return
	}
	after, ok := parseLastEventID(r)
	if !ok {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "Last-Event-ID must be a decimal event id"})
		return
	}
	rc := http.NewResponseController(w)
	// The stream outlives the server's read and write timeouts; each write
	// gets its own deadline instead.
	if err := rc.SetReadDeadline(time.Time{}); err != nil {
		a.log.Error("event stream unsupported by the connection", "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "streaming is not supported here"})
		return
	}
	ch, complete := a.cfg.Events.Subscribe(r.Context(), after)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx must not buffer the stream
	w.WriteHeader(http.StatusOK)
	a.cfg.Metrics.StreamClients(1)
	defer a.cfg.Metrics.StreamClients(-1)
	a.log.Debug("event stream opened", "remote", r.RemoteAddr, "after", after, "complete", complete)

	// Events are gathered in memory and written in one call under the
	// deadline: a buffered writer over w would spill a large batch to the
	// connection outside any deadline and block on a stuck reader forever.
	var bw bytes.Buffer
	flush := func() bool {
		// Each write gets its own deadline, disarmed once the write is
		// done: between writes the stream waits for events as long as
		// it likes. A deadline left armed would end an idle stream (on
		// HTTP/2 it resets the stream the moment it fires, even while
		// the handler waits).
		start := time.Now() // wall clock: a network deadline and the time a write took
		rc.SetWriteDeadline(start.Add(a.cfg.StreamWriteTimeout))
		_, err := w.Write(bw.Bytes())
		bw.Reset()
		if err == nil {
			err = rc.Flush()
		}
		rc.SetWriteDeadline(time.Time{})
		// A failed write cancels the request's context, so the deadline
		// is told apart from a client that left by the error (HTTP/1.1)
		// or by the time the write took (HTTP/2 resets the stream).
		if err != nil && (errors.Is(err, os.ErrDeadlineExceeded) || time.Since(start) >= a.cfg.StreamWriteTimeout) { // wall clock: the time a write took
			a.log.Warn("event stream client dropped: a write did not complete in time", "remote", r.RemoteAddr,
				"write_timeout", a.cfg.StreamWriteTimeout, "err", err)
			a.cfg.Metrics.StreamDropped(metrics.StreamDropWriteTimeout)
		}
		return err == nil
	}
	bw.WriteString("retry: " + strconv.Itoa(sseRetryMillis) + "\n: connected\n\n")
	if after > 0 && !complete {
		writeSSE(&bw, events.StreamEvent{ID: strconv.FormatUint(a.cfg.Events.LastID(), 10), EventType: events.EventTypeReset, EventTimestamp: a.now().Unix()})
	}
	if !flush() {
		return
	}
	beat := time.NewTicker(a.cfg.Heartbeat)
	defer beat.Stop()
	// The key was judged when the stream opened; a stream lasts days. It
	// is judged again before anything is written once the key cache's
	// lifetime has passed, so a key revoked or expired since (or whose
	// store read fails) gets no more events than a new request would.
	checked := keyClock()
	for {
		select {
		case e, open := <-ch:
			if !open {
				a.streamEnded(r)
				return
			}
			writeSSE(&bw, events.NewStreamEvent(e))
			// Drain what is already queued before paying for a flush.
			for n := 0; n < 64 && len(ch) > 0; n++ {
				if e, open = <-ch; !open {
					break
				}
				writeSSE(&bw, events.NewStreamEvent(e))
			}
		case <-beat.C:
			bw.WriteString(": heartbeat\n\n")
		case <-r.Context().Done():
			return
		}
		if now := keyClock(); now.Sub(checked) >= keyCacheTTL || now.Before(checked) {
			if _, res := a.authorize(r, store.ScopeEventsRead); res != authOK {
				a.log.Info("event stream ended: its API key is no longer usable", "remote", r.RemoteAddr)
				return
			}
			checked = now
		}
		if !flush() {
			return
		}
		// Anything written resets the heartbeat: it only fills silence.
		beat.Reset(a.cfg.Heartbeat)
	}
}

// streamEnded says why the bus closed a stream's channel: the server is
// stopping, or the client fell more events behind than its buffer holds
// (events.DefaultBuffer). Either way the client reconnects and resumes
// from its last ID.
func (a *api) streamEnded(r *http.Request) {
	if a.cfg.Events.Closed() || r.Context().Err() != nil {
		return
	}
	a.log.Warn("event stream client dropped: it fell behind by more events than its buffer holds", "remote", r.RemoteAddr,
		"buffer", events.DefaultBuffer)
	a.cfg.Metrics.StreamDropped(metrics.StreamDropBehind)
}

// writeSSE writes one event. JSON never holds a raw newline, so the data
// fits one "data:" line.
func writeSSE(w *bytes.Buffer, e events.StreamEvent) {
	data, _ := jsonenc.Marshal(e)
	w.WriteString("id: " + e.ID + "\nevent: " + e.SSEName() + "\ndata: ")
	w.Write(data)
	w.WriteString("\n\n")
}

func parseLastEventID(r *http.Request) (uint64, bool) {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("last_event_id")
	}
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, true
	}
	if len(v) > maxLastEventID {
		return 0, false
	}
	id, err := strconv.ParseUint(v, 10, 64)
	return id, err == nil
}
