package dashboard

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

// maxFilterLen bounds every filter value taken from the query string.
const maxFilterLen = 128

type devicesView struct {
	Query    store.FleetQuery
	Rows     []deviceRow
	Total    int
	Orgs     []string
	OSes     []string
	Statuses []store.DeviceStatus
	Controls []checks.ControlID
	PageNum  int
	Pages    int
	Prev     string
	Next     string
	Export   string
	SortLink map[string]string
	Stale    time.Duration
}

// fleetQuery reads the list's filters from the URL, ignoring bad values.
func (d *Dashboard) fleetQuery(v url.Values) (store.FleetQuery, int) {
	get := func(k string) string { return truncate(strings.TrimSpace(v.Get(k)), maxFilterLen) }
	q := store.FleetQuery{Thresholds: d.thresholds(), OS: get("os"), Org: get("org"), Owner: get("owner"), Search: get("q"),
		Sort: get("sort"), Desc: v.Get("dir") == "desc", Limit: pageSize}
	if st := store.DeviceStatus(get("status")); st.Valid() {
		q.Status = st
	}
	if c := checks.ControlID(get("control")); c.Valid() {
		q.Control = c
	}
	page, _ := strconv.Atoi(v.Get("page"))
	page = min(max(page, 1), 100000)
	q.Offset = (page - 1) * pageSize
	return q, page
}

func (d *Dashboard) devices(w http.ResponseWriter, r *http.Request, s *signedIn) {
	ctx := r.Context()
	q, page := d.fleetQuery(r.URL.Query())
	rows, total, err := d.fleetPage(ctx, q)
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	orgs, oses, err := d.st.FleetFacets(ctx)
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	v := devicesView{Query: q, Rows: rows, Total: total, Orgs: orgs, OSes: oses, Statuses: store.DeviceStatuses, Controls: checks.AllControlIDs,
		PageNum: page, Pages: max(1, (total+pageSize-1)/pageSize), SortLink: map[string]string{}, Stale: q.StaleAfter}
	link := func(change map[string]string) string {
		u := url.Values{}
		for k, val := range r.URL.Query() {
			if len(val) > 0 && val[0] != "" {
				u.Set(k, val[0])
			}
		}
		for k, val := range change {
			if val == "" {
				u.Del(k)
			} else {
				u.Set(k, val)
			}
		}
		return "?" + u.Encode()
	}
	if page > 1 {
		v.Prev = link(map[string]string{"page": strconv.Itoa(page - 1)})
	}
	if page < v.Pages {
		v.Next = link(map[string]string{"page": strconv.Itoa(page + 1)})
	}
	v.Export = "/ui/devices.csv" + link(map[string]string{"page": ""})
	for _, k := range []string{store.SortHostname, store.SortOwner, store.SortOrg, store.SortOS, store.SortStatus, store.SortLastSeen} {
		dir := ""
		if q.Sort == k && !q.Desc {
			dir = "desc"
		}
		v.SortLink[k] = link(map[string]string{"sort": k, "dir": dir, "page": ""})
	}
	d.render(w, r, s, http.StatusOK, "devices", "Devices", v)
}

// devicesCSV exports every device matching the filters, revoked ones
// included (their status and access say so), with the decision of the
// engine: access is allowed, blocked, allowed_by_exception or warned
// (with access_deadline when the warning turns into a block).
func (d *Dashboard) devicesCSV(w http.ResponseWriter, r *http.Request, s *signedIn) {
	q, _ := d.fleetQuery(r.URL.Query())
	rows, err := d.fleetRows(r.Context(), q)
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	name := "postern-devices-" + q.Now.UTC().Format("2006-01-02")
	if q.Org != "" {
		name += "-" + safeFileName(q.Org)
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	cw.Write([]string{"device_id", "hostname", "organization", "owner", "os", "os_version", "status", "failing_controls", "last_report", "enrolled_at",
		"access", "access_deadline", "unknown_controls", "waived_controls", "revoked_at"})
	for _, row := range rows {
		var failing, unknown, waived []string
		for _, c := range row.Controls {
			switch c.Kind {
			case "fail", "warned":
				failing = append(failing, string(c.Control))
			case "unknown":
				unknown = append(unknown, string(c.Control))
			case "waived":
				waived = append(waived, string(c.Control))
			}
		}
		cw.Write(csvSafe(row.ID, row.Info.Hostname, row.Org, row.Owner, osLabel(row.Info.OS), row.Info.OSVersion, string(row.Status),
			strings.Join(failing, " "), iso(row.LastReportAt), iso(row.EnrolledAt),
			string(row.Standing.Access), iso(row.Standing.Deadline), strings.Join(unknown, " "), strings.Join(waived, " "), iso(row.RevokedAt)))
	}
	cw.Flush()
	d.audit(r, s, audit.KindDevicesExported, "", map[string]any{"org": q.Org, "status": string(q.Status)})
}

func iso(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// csvSafe defuses spreadsheet formulas: a cell starting with = + - @ (or
// a tab or carriage return) gets a leading apostrophe.
func csvSafe(cells ...string) []string {
	for i, c := range cells {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			cells[i] = "'" + c
		}
	}
	return cells
}

func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, truncate(s, 40))
}
