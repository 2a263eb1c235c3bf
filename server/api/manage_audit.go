package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/postern-dev/postern/internal/jsonenc"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

// auditFilter is GET /v1/audit's query.
type auditFilter struct {
	after                  uint64
	limit                  int
	kind, actor, deviceID  string
	from, to               time.Time
	hasFrom, hasTo, capped bool
}

func (f auditFilter) match(r store.AuditRow) bool {
	return (f.kind == "" || r.Kind == f.kind) && (f.actor == "" || r.Actor == f.actor) &&
		(f.deviceID == "" || r.DeviceID == f.deviceID) &&
		(!f.hasFrom || !r.At.Before(f.from)) && (!f.hasTo || r.At.Before(f.to))
}

func parseAuditFilter(r *http.Request) (auditFilter, string, string) {
	v := r.URL.Query()
	var f auditFilter
	for _, k := range []string{"after", "limit", "kind", "actor", "device_id", "from", "to"} {
		if len(v[k]) > 1 {
			return f, k, k + " is given more than once"
		}
		if s := v.Get(k); len(s) > maxFilterLen || !printable(s) {
			return f, k, k + " must be printable text of at most 256 bytes"
		}
	}
	f.kind, f.actor, f.deviceID = v.Get("kind"), v.Get("actor"), v.Get("device_id")
	var err error
	if s := v.Get("after"); s != "" {
		if f.after, err = strconv.ParseUint(s, 10, 63); err != nil {
			return f, "after", "after must be an audit sequence number (a whole number)"
		}
	}
	if s := v.Get("limit"); s != "" {
		if f.limit, err = strconv.Atoi(s); err != nil || f.limit < 1 {
			return f, "limit", "limit must be a whole number, 1 or more"
		}
		f.capped = true
	}
	for _, t := range []struct {
		name string
		dst  *time.Time
		set  *bool
	}{{"from", &f.from, &f.hasFrom}, {"to", &f.to, &f.hasTo}} {
		if s := v.Get(t.name); s != "" {
			if *t.dst, err = time.Parse(time.RFC3339, s); err != nil {
				return f, t.name, t.name + " must be an RFC 3339 time, such as 2026-12-01T00:00:00Z"
			}
			*t.set = true
		}
	}
	return f, "", ""
}

// exportAudit is GET /v1/audit: the audit rows after `after` matching the
// filters, oldest first, as JSON lines in `postern-server audit export`'s
// format, streamed page by page (each row's seq is the next request's
// after). The export is itself audited, as the dashboard's is.
func (a *api) exportAudit(w http.ResponseWriter, r *http.Request, m *ManageConfig, c caller) {
	f, field, msg := parseAuditFilter(r)
	if msg != "" {
		badField(w, field, msg)
		return
	}
	ctx := r.Context()
	if !a.auditChange(w, r, m, c, audit.KindAuditExported, "", map[string]any{"after": f.after, "kind": f.kind,
		"actor": f.actor, "device_id": f.deviceID}) {
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/x-ndjson")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	enc := jsonenc.NewEncoder(w)
	after, sent := f.after, 0
	for {
		rows, err := a.cfg.Store.AuditRows(ctx, after, store.MaxAuditPage)
		if err != nil {
			// The status is sent: end the stream short; a client that
			// counts on the last seq resumes from it.
			a.failed(r, "export audit failed", err)
			return
		}
		// Each page gets its own write deadline: a long export is not cut
		// by the server's WriteTimeout, a stalled client is.
		_ = rc.SetWriteDeadline(time.Now().Add(a.cfg.StreamWriteTimeout)) // wall clock: a network deadline
		for _, row := range rows {
			after = row.Seq
			if !f.match(row) {
				continue
			}
			if err := enc.Encode(audit.ToExportRow(row)); err != nil {
				return
			}
			if sent++; f.capped && sent >= f.limit {
				return
			}
		}
		if len(rows) < store.MaxAuditPage {
			return
		}
		_ = rc.Flush()
	}
}
