package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/internal/jsonenc"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/store"
)

// historyDepth is how many past reports the timeline looks at.
const historyDepth = 50

type evidenceItem struct{ Key, Value string }

type controlRow struct {
	checks.Verdict
	Source   string
	Evidence []evidenceItem
	// FailingSince is when the control started failing, if it is.
	FailingSince time.Time
}

type timelineEntry struct {
	At      time.Time
	Control checks.ControlID
	From    checks.Status
	To      checks.Status
	Summary string
	// Author and Note are set for an analyst's note instead of a change.
	Author, Note string
}

type deviceView struct {
	Device     store.Device
	Status     store.DeviceStatus
	Report     *store.Report
	Decision   decision.Decision
	Standing   decision.Standing
	Controls   []controlRow
	Timeline   []timelineEntry
	Exceptions []store.Exception
	Connected  bool
	Notice     string
	AllControl []checks.ControlID
}

func (d *Dashboard) device(w http.ResponseWriter, r *http.Request, s *signedIn) {
	ctx := r.Context()
	id := r.PathValue("id")
	if len(id) > 64 {
		d.fail(w, r, s, http.StatusNotFound, "There is no such device.")
		return
	}
	p, err := d.cfg.Store.Posture(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		d.fail(w, r, s, http.StatusNotFound, "There is no such device.")
		return
	}
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	now := d.now()
	// The device is judged by its organization's profile as the policy
	// stands now, so a reloaded policy shows without a restart.
	pol := d.cfg.PolicyFor(p.Device.Org)
	v := deviceView{Device: p.Device, Report: p.Latest, Notice: noticeText[r.URL.Query().Get("done")], AllControl: checks.AllControlIDs}
	if p.Latest != nil {
		rep, err := decodeReport(p.Latest.Body)
		if err != nil {
			// As the engine judges it: every control unknown, saying why.
			rep = decision.UnreadableReport(p.Latest.Sequence, err)
		}
		for _, vd := range checks.Evaluate(rep, pol, now) {
			v.Controls = append(v.Controls, newControlRow(vd, p.FirstFailed[vd.ID]))
		}
	}
	v.Decision, err = d.cfg.Decisions.Current(ctx, id)
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	v.Status = statusOf(v.Decision)
	v.Standing = decision.AccessOf(v.Decision)
	hist, err := d.cfg.Store.History(ctx, id, historyDepth)
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	notes, err := d.st.Notes(ctx, id, store.MaxNotesPerDevice)
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	v.Timeline = withNotes(timeline(hist, pol, now), notes)
	exc, err := d.cfg.Exceptions.List(ctx, now.AddDate(0, 0, -30))
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	for _, e := range exc {
		if (e.Scope == store.ScopeDevice && e.Subject == id) || (e.Scope == store.ScopeOrg && e.Subject == p.Device.Org && e.Subject != "") {
			v.Exceptions = append(v.Exceptions, e)
		}
	}
	if d.cfg.Rechecker != nil {
		v.Connected = d.cfg.Rechecker.Connected(id)
	}
	d.render(w, r, s, http.StatusOK, "device", p.Device.Info.Hostname, v)
}

var noticeText = map[string]string{
	"recheck":        "Recheck requested: the agent is checking now; reload in a few seconds to see its report.",
	"revoked":        "Device revoked: it is denied from now on and must enroll again.",
	"approved":       "Enrollment approved: the device is judged on its posture from now on.",
	"denied":         "Enrollment denied: the device is revoked and must enroll again.",
	"exception":      "Exception granted.",
	"ended":          "Exception ended.",
	"token_revoked":  "Token revoked: it can no longer enroll a device.",
	"secret_revoked": "Secret revoked: it can no longer enroll a device; devices it enrolled keep their identity.",
	"unlocked":       "Account unlocked.",
	"role":           "Role changed; it applies to the user's next request.",
	"note":           "Note added to the device's history.",
}

func decodeReport(body []byte) (*checks.Report, error) {
	var rep checks.Report
	if err := json.Unmarshal(body, &rep); err != nil {
		return nil, err // said as the engine says it (decision.UnreadableReport)
	}
	return &rep, nil
}

func newControlRow(v checks.Verdict, since time.Time) controlRow {
	row := controlRow{Verdict: v, FailingSince: since}
	keys := make([]string, 0, len(v.Evidence))
	for k := range v.Evidence {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		val := formatEvidence(v.Evidence[k])
		if k == "source" || k == "sources" {
			row.Source = val
			continue
		}
		row.Evidence = append(row.Evidence, evidenceItem{Key: strings.ReplaceAll(k, "_", " "), Value: val})
	}
	return row
}

func formatEvidence(v any) string {
	switch x := v.(type) {
	case string:
		return truncate(x, 240)
	case nil:
		return "—"
	case bool, float64, int, int64:
		return fmt.Sprint(x)
	case []string:
		return truncate(strings.Join(x, ", "), 240)
	case []any:
		// A list of plain values (several sources, several volumes) reads
		// better as words than as JSON.
		parts := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				parts = nil
				break
			}
			parts = append(parts, s)
		}
		if parts != nil {
			return truncate(strings.Join(parts, ", "), 240)
		}
	}
	b, err := jsonenc.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return truncate(string(b), 240)
}

// timeline turns reports (newest first) into control status changes,
// newest first.
func timeline(hist []store.Report, pol *checks.Policy, now time.Time) []timelineEntry {
	var out []timelineEntry
	prev := map[checks.ControlID]checks.Status{}
	for i := len(hist) - 1; i >= 0; i-- {
		rep, err := decodeReport(hist[i].Body)
		if err != nil {
			continue
		}
		at := decision.PostureTime(hist[i].CollectedAt, hist[i].ReceivedAt)
		for _, v := range checks.Evaluate(rep, pol, now) {
			was, seen := prev[v.ID]
			if seen && was != v.Status {
				out = append(out, timelineEntry{At: at, Control: v.ID, From: was, To: v.Status, Summary: v.Summary})
			}
			prev[v.ID] = v.Status
		}
		if i == len(hist)-1 {
			out = append(out, timelineEntry{At: at, Summary: "Oldest report kept in the history"})
		}
	}
	slices.Reverse(out)
	return out
}

// withNotes merges notes (newest first) into the timeline (newest first);
// a note and a change at the same instant show the note first.
func withNotes(tl []timelineEntry, notes []store.Note) []timelineEntry {
	out := make([]timelineEntry, 0, len(tl)+len(notes))
	for len(tl) > 0 || len(notes) > 0 {
		if len(notes) > 0 && (len(tl) == 0 || !notes[0].CreatedAt.Before(tl[0].At)) {
			out = append(out, timelineEntry{At: notes[0].CreatedAt, Author: notes[0].Author, Note: notes[0].Body})
			notes = notes[1:]
			continue
		}
		out = append(out, tl[0])
		tl = tl[1:]
	}
	return out
}

func (d *Dashboard) recheck(w http.ResponseWriter, r *http.Request, s *signedIn) {
	id := r.PathValue("id")
	if d.cfg.Rechecker == nil {
		d.fail(w, r, s, http.StatusServiceUnavailable, "Recheck is not available: ingest is not running.")
		return
	}
	if err := d.cfg.Rechecker.Recheck(id); err != nil {
		d.fail(w, r, s, http.StatusConflict, "The agent is not connected right now; it will report at its next scheduled check.")
		return
	}
	d.audit(r, s, audit.KindRecheck, id, nil)
	http.Redirect(w, r, "/ui/devices/"+pathEscape(id)+"?done=recheck", http.StatusSeeOther)
}

func (d *Dashboard) revoke(w http.ResponseWriter, r *http.Request, s *signedIn) {
	id := r.PathValue("id")
	err := d.cfg.Store.Revoke(r.Context(), id, d.now())
	if errors.Is(err, store.ErrNotFound) {
		d.fail(w, r, s, http.StatusNotFound, "There is no such device.")
		return
	}
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	d.audit(r, s, audit.KindRevocation, id, map[string]any{"reason": truncate(r.PostForm.Get("reason"), 500)})
	http.Redirect(w, r, "/ui/devices/"+pathEscape(id)+"?done=revoked", http.StatusSeeOther)
}

func (d *Dashboard) grantException(w http.ResponseWriter, r *http.Request, s *signedIn) {
	id := r.PathValue("id")
	dev, err := d.cfg.Store.Device(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		d.fail(w, r, s, http.StatusNotFound, "There is no such device.")
		return
	}
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	days, _ := strconv.Atoi(r.PostForm.Get("days"))
	now := d.now()
	e := store.Exception{Scope: store.ScopeDevice, Subject: dev.ID, Control: r.PostForm.Get("control"),
		Reason: strings.TrimSpace(r.PostForm.Get("reason")), Approver: s.User.Username, StartsAt: now, ExpiresAt: now.AddDate(0, 0, days)}
	if r.PostForm.Get("scope") == store.ScopeOrg && dev.Org != "" {
		e.Scope, e.Subject = store.ScopeOrg, dev.Org
	}
	if days < 1 || days > maxExceptionDays {
		d.fail(w, r, s, http.StatusBadRequest, fmt.Sprintf("An exception lasts 1 to %d days.", maxExceptionDays))
		return
	}
	if _, err := d.cfg.Exceptions.Grant(r.Context(), e); err != nil {
		var ve validationError
		if errors.As(err, &ve) {
			d.fail(w, r, s, http.StatusBadRequest, capitalize(ve.Error())+".")
			return
		}
		d.internal(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/ui/devices/"+pathEscape(id)+"?done=exception", http.StatusSeeOther)
}
