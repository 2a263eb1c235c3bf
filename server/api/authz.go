package api

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/postern-dev/postern/server/ca"
	"github.com/postern-dev/postern/server/decision"
)

// Headers carrying the client certificate the proxy verified.
const (
	headerClientCert = "X-Client-Cert"           // nginx $ssl_client_escaped_cert
	headerXFCC       = "X-Forwarded-Client-Cert" // Envoy
	headerReason     = "X-Postern-Reason"
	headerError      = "X-Postern-Error" // why /v1/authz could not answer 200 or 403
	headerDevice     = "X-Postern-Device"
	// headerUser names the signed-in user, set by a proxy that knows it
	// (e.g. from its own authentication), for the shared-device check.
	headerUser       = "X-Postern-User"
	maxCertHeaderLen = 16 << 10
)

// authz serves nginx auth_request, Caddy forward_auth and Envoy
// ext_authz-style checks: 200 allow, 403 deny (reasons in
// X-Postern-Reason), 401 when there is no client certificate or the
// request does not come from a trusted proxy. Every answer is headers
// only, with Content-Length: 0: a proxy reads nothing more, and nginx's
// auth_request, which never reads an answer's body, can then reuse the
// connection instead of opening (and TLS-handshaking) a new one for every
// request. What a body would say is in X-Postern-Error; the person at the
// laptop gets the block page from /v1/blocked.
func (a *api) authz(w http.ResponseWriter, r *http.Request) {
	start := time.Now() // wall clock: measures elapsed time
	if !a.fromTrustedProxy(r) {
		// A forwarded certificate from anywhere else is a spoofing attempt
		// (or a misconfigured proxy): say which, without echoing it.
		_, hasCert := forwardedCertSHA(r.Header)
		a.log.Warn("authz from untrusted address", "remote", r.RemoteAddr, "forwarded_cert", hasCert)
		authzAnswer(w, http.StatusUnauthorized, headerError, "untrusted proxy")
		return
	}
	sha, ok := a.certs.forwardedCertSHA(r.Header)
	if !ok {
		authzAnswer(w, http.StatusUnauthorized, headerError, "no client certificate")
		return
	}
	user := r.Header.Get(headerUser)
	if len(user) > maxUserLen || !printable(user) {
		authzAnswer(w, http.StatusBadRequest, headerError, headerUser+" is too long or not printable")
		return
	}
	d, err := a.decide(r.Context(), lookup{certSHA256: sha}, user)
	a.observe("authz", d, err, start)
	if err != nil {
		a.failed(r, "decide failed", err)
		authzAnswer(w, http.StatusServiceUnavailable, headerError, "the decision could not be made; retry")
		return
	}
	if !d.Allow {
		authzAnswer(w, http.StatusForbidden, headerDevice, d.DeviceID, headerReason, reasonHeader(d.Reasons))
		return
	}
	authzAnswer(w, http.StatusOK, headerDevice, d.DeviceID)
}

// authzAnswer writes status with the given header pairs (empty values
// left out) and no body.
func authzAnswer(w http.ResponseWriter, status int, kv ...string) {
	h := w.Header()
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			h[kv[i]] = []string{kv[i+1]}
		}
	}
	h["Cache-Control"] = noStore
	h["Content-Length"] = zeroLength
	w.WriteHeader(status)
}

// Shared header values: assigning them costs no allocation.
var (
	noStore    = []string{"no-store"}
	zeroLength = []string{"0"}
)

// reasonHeader lists the reasons as "code[:control]", comma-separated.
func reasonHeader(rs []decision.Reason) string {
	var b strings.Builder
	for i, r := range rs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(r.Code)
		if r.Control != "" {
			b.WriteString(":" + r.Control)
		}
	}
	return b.String()
}

func (a *api) fromTrustedProxy(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range a.cfg.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// forwardedCertSHA returns the hex SHA-256 of the client certificate named
// by the proxy's headers.
func forwardedCertSHA(h http.Header) (string, bool) {
	if v := h.Get(headerClientCert); v != "" {
		return certPEMSHA(v)
	}
	if v := h.Get(headerXFCC); v != "" && len(v) <= maxCertHeaderLen {
		return xfccSHA(v)
	}
	return "", false
}

// certPEMSHA reads X-Client-Cert: a URL-escaped PEM certificate (nginx's
// $ssl_client_escaped_cert, Envoy's Cert=), or the base64 of its DER
// (Caddy's {http.request.tls.client.certificate_der_base64}).
func certPEMSHA(escaped string) (string, bool) {
	if len(escaped) > maxCertHeaderLen {
		return "", false
	}
	if !strings.Contains(escaped, "-") && !strings.Contains(escaped, "%") {
		return certDERSHA(escaped)
	}
	// nginx escapes every reserved character (a base64 "+" is %2B); other
	// proxies use query escaping, where "+" stands for the space of
	// "BEGIN CERTIFICATE". Path unescaping first keeps a raw "+" intact.
	for _, unescape := range []func(string) (string, error){url.PathUnescape, url.QueryUnescape} {
		s, err := unescape(escaped)
		if err != nil {
			continue
		}
		block, _ := pem.Decode([]byte(s))
		if block == nil || block.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return "", false
		}
		return ca.Fingerprint(block.Bytes), true
	}
	return "", false
}

func certDERSHA(b64 string) (string, bool) {
	der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return "", false
	}
	if _, err := x509.ParseCertificate(der); err != nil {
		return "", false
	}
	return ca.Fingerprint(der), true
}

// xfccSHA reads Envoy's X-Forwarded-Client-Cert. Each proxy appends an
// element (comma-separated); the last one describes the client of the proxy
// that called us. Hash= is the hex SHA-256 of the DER; Cert= the
// URL-encoded PEM.
func xfccSHA(v string) (string, bool) {
	elems := splitQuoted(v, ',')
	last := elems[len(elems)-1]
	var hash, cert string
	for _, kv := range splitQuoted(last, ';') {
		k, val, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			continue
		}
		val = strings.Trim(val, `"`)
		switch strings.ToLower(k) {
		case "hash":
			hash = val
		case "cert":
			cert = val
		}
	}
	if hash != "" {
		hash = strings.ToLower(hash)
		if b, err := hex.DecodeString(hash); err == nil && len(b) == 32 {
			return hash, true
		}
		return "", false
	}
	if cert != "" {
		return certPEMSHA(cert)
	}
	return "", false
}

// splitQuoted splits s on sep outside double quotes.
func splitQuoted(s string, sep byte) []string {
	var out []string
	inQuote, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			inQuote = !inQuote
		case sep:
			if !inQuote {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}
