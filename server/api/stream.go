package api

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Limits of the event stream.
const (
	// sseWriteTimeout bounds each write to a stream client, replacing the
	// server-wide WriteTimeout that would otherwise end every stream.
	sseWriteTimeout = 10 * time.Second
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

	bw := bufio.NewWriter(w)
	flush := func() bool {
		rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout))
		return bw.Flush() == nil && rc.Flush() == nil
	}
	bw.WriteString("retry: " + strconv.Itoa(sseRetryMillis) + "\n: connected\n\n")
	if after > 0 && !complete {
		writeSSE(bw, StreamEvent{ID: strconv.FormatUint(a.cfg.Events.LastID(), 10), EventType: EventTypeReset, EventTimestamp: a.now().Unix()})
	}
	if !flush() {
		return
	}
	beat := time.NewTicker(a.cfg.Heartbeat)
	defer beat.Stop()
	for {
		select {
		case e, open := <-ch:
			if !open {
				// Fell behind or the server is stopping: the client
				// reconnects and resumes from its last ID.
				return
			}
			writeSSE(bw, NewStreamEvent(e))
			// Drain what is already queued before paying for a flush.
			for n := 0; n < 64 && len(ch) > 0; n++ {
				if e, open = <-ch; !open {
					break
				}
				writeSSE(bw, NewStreamEvent(e))
			}
		case <-beat.C:
			bw.WriteString(": heartbeat\n\n")
		case <-r.Context().Done():
			return
		}
		if !flush() {
			return
		}
	}
}

// writeSSE writes one event. JSON never holds a raw newline, so the data
// fits one "data:" line.
func writeSSE(w *bufio.Writer, e StreamEvent) {
	data, _ := json.Marshal(e)
	w.WriteString("id: " + e.ID + "\nevent: " + sseName[e.EventType] + "\ndata: ")
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
