package api

import (
	"encoding/hex"
	"net/http"
	"strings"
	"time"
	"unicode"
)

// decision serves GET /v1/decision?device_id=ID | cert_sha256=HEX [&user=U].
func (a *api) decision(w http.ResponseWriter, r *http.Request) {
	start := time.Now() // wall clock: measures elapsed time
	q := r.URL.Query()
	l, user, msg := parseDecisionQuery(q.Get("device_id"), q.Get("cert_sha256"), q.Get("user"), len(q["device_id"])+len(q["cert_sha256"]))
	if msg != "" {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: msg})
		return
	}
	d, err := a.decide(r.Context(), l, user)
	a.observe("decision", d, err, start)
	if err != nil {
		a.failed(r, "decide failed", err)
		writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: "the decision could not be made; retry"})
		return
	}
	a.writeDecision(w, &d)
}

// failed logs a request's failure. A caller that hung up (a gateway
// abandoning its subrequest) is not a server failure, so its request's
// failures are logged at debug level rather than as errors.
func (a *api) failed(r *http.Request, msg string, err error) {
	if r.Context().Err() != nil {
		a.log.Debug(msg+" (the caller hung up)", "err", err)
		return
	}
	a.log.Error(msg, "err", err)
}

func parseDecisionQuery(deviceID, certSHA, user string, count int) (lookup, string, string) {
	if count != 1 {
		return lookup{}, "", "give exactly one of device_id and cert_sha256"
	}
	if len(user) > maxUserLen || !printable(user) {
		return lookup{}, "", "user is too long or not printable"
	}
	if certSHA != "" {
		certSHA = strings.ToLower(certSHA)
		if b, err := hex.DecodeString(certSHA); err != nil || len(b) != 32 {
			return lookup{}, "", "cert_sha256 must be 64 hexadecimal digits"
		}
		return lookup{certSHA256: certSHA}, user, ""
	}
	if deviceID == "" || len(deviceID) > maxDeviceIDLen || !printable(deviceID) {
		return lookup{}, "", "device_id must be 1 to 64 printable characters"
	}
	return lookup{deviceID: deviceID}, user, ""
}

func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
