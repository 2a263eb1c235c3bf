package dashboard

import (
	"errors"
	"net/http"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

// approveDevice and denyDevice answer an enrollment held by the server
// configuration's enrollment.approve: manual (admins only, as revocation:
// users.PermRevoke; CSRF-checked by d.action). A deny revokes the device.
func (d *Dashboard) approveDevice(w http.ResponseWriter, r *http.Request, s *signedIn) {
	d.answerEnrollment(w, r, s, true)
}

func (d *Dashboard) denyDevice(w http.ResponseWriter, r *http.Request, s *signedIn) {
	d.answerEnrollment(w, r, s, false)
}

func (d *Dashboard) answerEnrollment(w http.ResponseWriter, r *http.Request, s *signedIn, approve bool) {
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
	if !dev.Pending() {
		d.fail(w, r, s, http.StatusConflict, "This device's enrollment is not waiting for approval.")
		return
	}
	kind, done := audit.KindEnrollmentApproved, "approved"
	if approve {
		err = d.cfg.Store.SetApproval(r.Context(), id, "")
	} else {
		kind, done = audit.KindEnrollmentDenied, "denied"
		if err = d.cfg.Store.SetApproval(r.Context(), id, store.ApprovalDenied); err == nil {
			err = d.cfg.Store.Revoke(r.Context(), id, d.now())
		}
	}
	if err != nil {
		d.internal(w, r, s, err)
		return
	}
	details := map[string]any{"hostname": dev.Info.Hostname, "org": dev.Org}
	if reason := truncate(r.PostForm.Get("reason"), 500); reason != "" {
		details["reason"] = reason
	}
	d.audit(r, s, kind, id, details)
	http.Redirect(w, r, "/ui/devices/"+pathEscape(id)+"?done="+done, http.StatusSeeOther)
}
