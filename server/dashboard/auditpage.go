package dashboard

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

type auditView struct {
	Filter  store.AuditFilter
	From    string
	To      string
	Rows    []store.AuditRow
	PageNum int
	Prev    string
	Next    string
	Export  string
}

// auditFilter reads the filters; From and To are dates (YYYY-MM-DD, UTC),
// To inclusive.
func auditFilter(v url.Values) (store.AuditFilter, string, string, int) {
	get := func(k string) string { return truncate(strings.TrimSpace(v.Get(k)), maxFilterLen) }
	f := store.AuditFilter{Actor: get("actor"), Kind: get("kind"), DeviceID: get("device"), Limit: pageSize}
	from, to := get("from"), get("to")
	if t, err := time.Parse("2006-01-02", from); err == nil {
		f.From = t
	} else {
		from = ""
	}
	if t, err := time.Parse("2006-01-02", to); err == nil {
		f.To = t.AddDate(0, 0, 1)
	} else {
		to = ""
	}
	page, _ := strconv.Atoi(v.Get("page"))
	page = min(max(page, 1), 100000)
	f.Offset = (page - 1) * pageSize
	return f, from, to, page
}

func (d *Dashboard) auditLog(w http.ResponseWriter, r *http.Request, s *signedIn) {
	f, from, to, page := auditFilter(r.URL.Query())
	f.Limit = pageSize + 1
	rows, err := d.st.SearchAudit(r.Context(), f)
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	v := auditView{Filter: f, From: from, To: to, PageNum: page}
	q := r.URL.Query()
	q.Del("page")
	if len(rows) > pageSize {
		rows = rows[:pageSize]
		q.Set("page", strconv.Itoa(page+1))
		v.Next = "?" + q.Encode()
	}
	if page > 1 {
		q.Set("page", strconv.Itoa(page-1))
		v.Prev = "?" + q.Encode()
	}
	q.Del("page")
	v.Rows, v.Export = rows, "/ui/audit.csv?"+q.Encode()
	d.render(w, r, s, http.StatusOK, "audit", "Audit log", v)
}

func (d *Dashboard) auditCSV(w http.ResponseWriter, r *http.Request, s *signedIn) {
	f, _, _, _ := auditFilter(r.URL.Query())
	f.Offset, f.Limit = 0, store.MaxPageSize
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="postern-audit-`+d.now().UTC().Format("2006-01-02")+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	cw.Write([]string{"seq", "at", "actor", "kind", "device_id", "details", "hash"})
	for {
		rows, err := d.st.SearchAudit(r.Context(), f)
		if err != nil {
			d.log.Error("export audit failed", "err", err)
			return
		}
		for _, row := range rows {
			cw.Write(csvSafe(strconv.FormatUint(row.Seq, 10), iso(row.At), row.Actor, row.Kind, row.DeviceID, string(row.Details), row.Hash))
		}
		if len(rows) < f.Limit {
			break
		}
		f.Offset += len(rows)
	}
	cw.Flush()
	d.audit(r, s, audit.KindAuditExported, "", nil)
}
