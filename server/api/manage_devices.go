package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/store"
)

// Paging of GET /v1/devices.
const (
	defaultDevicePage = 100
	maxDevicePage     = store.MaxPageSize
	maxFilterLen      = 256
)

// deviceJSON is a device with the engine's decision.
type deviceJSON struct {
	ID           string    `json:"id"`
	Hostname     string    `json:"hostname"`
	OS           string    `json:"os"`
	OSName       string    `json:"os_name,omitempty"`
	OSVersion    string    `json:"os_version,omitempty"`
	Owner        string    `json:"owner"`
	Org          string    `json:"org"`
	KeyKind      string    `json:"key_kind"`
	EnrolledAt   time.Time `json:"enrolled_at"`
	LastSeenAt   time.Time `json:"last_seen_at,omitzero"`
	LastReportAt time.Time `json:"last_report_at,omitzero"`
	RevokedAt    time.Time `json:"revoked_at,omitzero"`
	CertNotAfter time.Time `json:"cert_not_after,omitzero"`
	// Status and Access are derived from Decision, as on the dashboard.
	Status         store.DeviceStatus `json:"status"`
	Access         decision.Access    `json:"access"`
	AccessDeadline time.Time          `json:"access_deadline,omitzero"`
	Decision       decision.Decision  `json:"decision"`
}

func newDeviceJSON(d store.Device, lastReport time.Time, dec decision.Decision) deviceJSON {
	st := decision.AccessOf(dec)
	return deviceJSON{ID: d.ID, Hostname: d.Info.Hostname, OS: d.Info.OS, OSName: d.Info.OSName, OSVersion: d.Info.OSVersion,
		Owner: d.Owner, Org: d.Org, KeyKind: d.KeyKind, EnrolledAt: d.EnrolledAt, LastSeenAt: d.LastSeenAt, LastReportAt: lastReport,
		RevokedAt: d.RevokedAt, CertNotAfter: d.CertNotAfter, Status: decision.Status(dec), Access: st.Access,
		AccessDeadline: st.Deadline, Decision: dec}
}

type deviceList struct {
	Devices []deviceJSON `json:"devices"`
	// Total is how many devices match the filters in all.
	Total int `json:"total"`
	// NextOffset is the offset of the next page; absent on the last.
	NextOffset *int `json:"next_offset,omitempty"`
}

// deviceFilter is GET /v1/devices' query.
type deviceFilter struct {
	q             store.FleetQuery
	status        store.DeviceStatus
	access        decision.Access
	offset, limit int
}

func parseDeviceFilter(r *http.Request) (deviceFilter, string, string) {
	v := r.URL.Query()
	f := deviceFilter{limit: defaultDevicePage}
	for _, k := range []string{"status", "access", "os", "org", "user", "q", "offset", "limit"} {
		if len(v[k]) > 1 {
			return f, k, k + " is given more than once"
		}
		if s := v.Get(k); len(s) > maxFilterLen || !printable(s) {
			return f, k, k + " must be printable text of at most 256 bytes"
		}
	}
	f.q = store.FleetQuery{OS: v.Get("os"), Org: v.Get("org"), Owner: v.Get("user"), Search: v.Get("q"), All: true}
	if s := v.Get("status"); s != "" {
		if f.status = store.DeviceStatus(s); !f.status.Valid() {
			return f, "status", "status must be one of compliant, noncompliant, stale, inactive, revoked"
		}
	}
	if s := v.Get("access"); s != "" {
		switch f.access = decision.Access(s); f.access {
		case decision.AccessAllowed, decision.AccessException, decision.AccessWarned, decision.AccessBlocked:
		default:
			return f, "access", "access must be one of allowed, allowed_by_exception, warned, blocked"
		}
	}
	var err error
	if s := v.Get("offset"); s != "" {
		if f.offset, err = strconv.Atoi(s); err != nil || f.offset < 0 {
			return f, "offset", "offset must be a whole number, 0 or more"
		}
	}
	if s := v.Get("limit"); s != "" {
		if f.limit, err = strconv.Atoi(s); err != nil || f.limit < 1 || f.limit > maxDevicePage {
			return f, "limit", "limit must be a whole number from 1 to 1000"
		}
	}
	return f, "", ""
}

// listDevices is GET /v1/devices: the devices matching the filters,
// ordered by hostname, each with the engine's decision.
func (a *api) listDevices(w http.ResponseWriter, r *http.Request, m *ManageConfig, _ caller) {
	f, field, msg := parseDeviceFilter(r)
	if msg != "" {
		badField(w, field, msg)
		return
	}
	ctx := r.Context()
	f.q.Now = a.now()
	decisions, err := m.Decisions.All(ctx)
	if err != nil {
		a.internal(w, r, "read decisions failed", err)
		return
	}
	page, err := a.cfg.Store.FleetDevices(ctx, f.q)
	if err != nil {
		a.internal(w, r, "list devices failed", err)
		return
	}
	out := deviceList{Devices: []deviceJSON{}}
	for _, fd := range page.Devices {
		dec, ok := decisions[fd.ID]
		if !ok {
			// Enrolled after the decisions were made.
			if dec, err = m.Decisions.Current(ctx, fd.ID); err != nil {
				continue
			}
		}
		if f.status != "" && decision.Status(dec) != f.status || f.access != "" && decision.AccessOf(dec).Access != f.access {
			continue
		}
		if out.Total >= f.offset && len(out.Devices) < f.limit {
			out.Devices = append(out.Devices, newDeviceJSON(fd.Device, fd.LastReportAt, dec))
		}
		out.Total++
	}
	if next := f.offset + f.limit; next < out.Total {
		out.NextOffset = &next
	}
	writeJSON(w, http.StatusOK, out)
}

// deviceID reads and checks the {id} of a device path.
func deviceID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if id == "" || len(id) > maxDeviceIDLen || !printable(id) || strings.ContainsAny(id, " /") {
		badField(w, "id", "the device ID must be 1 to 64 printable bytes")
		return "", false
	}
	return id, true
}

// showDevice is GET /v1/devices/{id}: the device and the engine's
// decision, the one /v1/decision answers.
func (a *api) showDevice(w http.ResponseWriter, r *http.Request, m *ManageConfig, _ caller) {
	id, ok := deviceID(w, r)
	if !ok {
		return
	}
	p, err := a.cfg.Store.Posture(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "no such device"})
		return
	}
	if err != nil {
		a.internal(w, r, "read device failed", err)
		return
	}
	dec, err := m.Decisions.Current(r.Context(), id)
	if err != nil {
		a.internal(w, r, "decide failed", err)
		return
	}
	var last time.Time
	if p.Latest != nil {
		last = decision.PostureTime(p.Latest.CollectedAt, p.Latest.ReceivedAt)
	}
	writeJSON(w, http.StatusOK, newDeviceJSON(p.Device, last, dec))
}

type reasonBody struct {
	Reason string `json:"reason"`
}

const maxReasonLen = 500

// readReason reads a mutation's optional {"reason": ...} body; false when
// it answered a bad one.
func readReason(w http.ResponseWriter, r *http.Request) (string, bool) {
	var body reasonBody
	if !optionalBody(w, r, &body) {
		return "", false
	}
	if !printableText(body.Reason, maxReasonLen) {
		badField(w, "reason", "reason must be printable text of at most 500 bytes")
		return "", false
	}
	return body.Reason, true
}

// revokeDevice is POST /v1/devices/{id}/revoke: the device's certificate
// stops working everywhere; audited.
func (a *api) revokeDevice(w http.ResponseWriter, r *http.Request, m *ManageConfig, c caller) {
	id, ok := deviceID(w, r)
	if !ok {
		return
	}
	reason, ok := readReason(w, r)
	if !ok {
		return
	}
	dev, err := a.cfg.Store.Device(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "no such device"})
		return
	}
	if err != nil {
		a.internal(w, r, "read device failed", err)
		return
	}
	if dev.Revoked() {
		writeJSON(w, http.StatusConflict, errorBody{Error: "the device is already revoked"})
		return
	}
	if err := m.Revoker.Revoke(r.Context(), id, a.now()); err != nil {
		a.internal(w, r, "revoke device failed", err)
		return
	}
	if !a.auditChange(w, r, m, c, audit.KindRevocation, id, map[string]any{"reason": reason}) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": id, "status": string(store.StatusRevoked)})
}

// recheckDevice is POST /v1/devices/{id}/recheck: a connected agent
// checks and reports now; audited.
func (a *api) recheckDevice(w http.ResponseWriter, r *http.Request, m *ManageConfig, c caller) {
	id, ok := deviceID(w, r)
	if !ok {
		return
	}
	if _, err := a.cfg.Store.Device(r.Context(), id); errors.Is(err, store.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "no such device"})
		return
	} else if err != nil {
		a.internal(w, r, "read device failed", err)
		return
	}
	if m.Rechecker == nil {
		writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: "recheck is not available: ingest is not running"})
		return
	}
	if err := m.Rechecker.Recheck(id); err != nil {
		writeJSON(w, http.StatusConflict, errorBody{Error: "the agent is not connected now; it reports at its next scheduled check"})
		return
	}
	if !a.auditChange(w, r, m, c, audit.KindRecheck, id, nil) {
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"id": id, "recheck": "requested"})
}
