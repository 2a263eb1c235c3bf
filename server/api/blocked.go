package api

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/internal/fixtext"
	"github.com/postern-dev/postern/server/decision"
)

// blockedHTML is the block page's template; its only style sheet is the
// inline <style> element, allowed by hash in the page's CSP.
//
//go:embed blocked.html.tmpl
var blockedHTML string

var (
	blockedTmpl = template.Must(template.New("blocked").Parse(blockedHTML))
	blockedCSP  = "default-src 'none'; style-src '" + styleHash(blockedHTML) + "'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

// styleHash returns the CSP source ('sha256-...') of the template's
// <style> element, which holds no template action and so is served as is.
func styleHash(page string) string {
	const open, end = "<style>", "</style>"
	i := bytes.Index([]byte(page), []byte(open))
	j := bytes.Index([]byte(page), []byte(end))
	if i < 0 || j < i {
		panic("blocked.html.tmpl has no <style> element")
	}
	sum := sha256.Sum256([]byte(page[i+len(open) : j]))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// blockedPage is what the block page shows. Every string in it may come
// from an agent (host name, control summaries): html/template escapes
// each one where it is used.
type blockedPage struct {
	// Kind selects the page: "blocked", "allowed", "unverified" (unknown
	// certificate, none, or not from a trusted proxy) or "error".
	Kind     string
	Device   string
	DeviceID string
	Blocking []pageItem
	Warnings []pageItem
	Checked  string
}

// pageItem is one reason or warning in plain words. Found and Fix are
// split where the text quotes a command in backticks, so the page shows
// it as code.
type pageItem struct {
	Title, Until string
	Found, Fix   []fixtext.Part
}

// blocked serves GET /v1/blocked: the page nginx shows (error_page 403)
// instead of the EHR when /v1/authz denied the device. Like /v1/authz it
// trusts a forwarded certificate only from a trusted proxy, and it
// describes only the device that certificate belongs to.
func (a *api) blocked(w http.ResponseWriter, r *http.Request) {
	if !a.fromTrustedProxy(r) {
		_, hasCert := forwardedCertSHA(r.Header)
		a.log.Warn("block page from untrusted address", "remote", r.RemoteAddr, "forwarded_cert", hasCert)
		writePage(w, http.StatusUnauthorized, blockedPage{Kind: "unverified"})
		return
	}
	sha, ok := a.certs.forwardedCertSHA(r.Header)
	if !ok {
		writePage(w, http.StatusUnauthorized, blockedPage{Kind: "unverified"})
		return
	}
	user := r.Header.Get(headerUser)
	if len(user) > maxUserLen || !printable(user) {
		user = ""
	}
	d, err := a.decide(r.Context(), lookup{certSHA256: sha}, user)
	if err != nil {
		a.log.Error("decide for block page failed", "err", err)
		writePage(w, http.StatusServiceUnavailable, blockedPage{Kind: "error"})
		return
	}
	if d.DeviceID == "" || hasCode(d.Reasons, decision.CodeDeviceUnknown) {
		writePage(w, http.StatusForbidden, blockedPage{Kind: "unverified"})
		return
	}
	page := blockedPage{Kind: "blocked", DeviceID: d.DeviceID, Checked: humanTime(d.EvaluatedAt),
		Blocking: items(d.Reasons), Warnings: items(d.Warnings)}
	if p, err := a.posture(r.Context(), lookup{deviceID: d.DeviceID}); err == nil {
		page.Device = p.Device.Info.Hostname
	}
	status := http.StatusForbidden
	if d.Allow {
		page.Kind, status = "allowed", http.StatusOK
	}
	writePage(w, status, page)
}

func hasCode(rs []decision.Reason, code string) bool {
	for _, r := range rs {
		if r.Code == code {
			return true
		}
	}
	return false
}

// reasonTitles names the reasons that concern no single control.
var reasonTitles = map[string]string{
	decision.CodeDeviceRevoked:      "This device's enrollment was withdrawn",
	decision.CodeDeviceInactive:     "This device has not checked in for a long time",
	decision.CodeNoReport:           "This device has not been checked yet",
	decision.CodeReportStale:        "This device has not been checked recently",
	decision.CodeAttestationMissing: "Yearly remote-access statement",
	decision.CodeAttestationDue:     "Yearly remote-access statement",
	decision.CodeDeviceKeySoftware:  "Hardware-bound device key",
	decision.CodeAgentOutdated:      "Postern agent out of date",
	decision.CodeEnrollmentPending:  "This device is waiting for approval",
	decision.CodeEnrollmentDenied:   "This device's enrollment was refused",
	CodeOtherUser:                   "This device belongs to someone else",
}

// items turns reasons into plain words: a control's title rather than
// its code, what was found, and the fix.
func items(rs []decision.Reason) []pageItem {
	out := make([]pageItem, 0, len(rs))
	for _, r := range rs {
		found := r.Message
		var it pageItem
		switch {
		case r.Control != "":
			it.Title = checks.ControlID(r.Control).Title()
			if it.Title == "" {
				it.Title = "A required setting"
			}
			if r.Code == decision.CodeControlUnknown {
				found = "Postern could not confirm this setting: " + r.Message
			}
		case reasonTitles[r.Code] != "":
			it.Title = reasonTitles[r.Code]
		default:
			it.Title = "Access condition not met"
		}
		if !r.Until.IsZero() {
			it.Until = humanTime(r.Until)
		}
		it.Found, it.Fix = fixtext.Parts(found), fixtext.Parts(r.Remediation)
		out = append(out, it)
	}
	return out
}

// humanTime formats t for a person, in UTC so that it is the same
// wherever the page is read.
func humanTime(t time.Time) string {
	return t.UTC().Format("Monday 2 January 2006, 15:04 MST")
}

func writePage(w http.ResponseWriter, status int, p blockedPage) {
	var b bytes.Buffer
	if err := blockedTmpl.Execute(&b, p); err != nil {
		http.Error(w, "the page could not be made", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", blockedCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}
