package passwordpolicy

import (
	"bytes"
	"math"
	"strconv"
	"strings"

	"github.com/postern-dev/postern/checks/internal/textlines"
)

// parseKeyValue reads `key = value` files (pwquality.conf, faillock.conf,
// pwhistory.conf): # comments, blanks around = ignored, a bare key is a
// flag with an empty value. Later keys win.
func parseKeyValue(b []byte, into map[string]string) {
	for line := range textlines.Each(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))) {
		line = strings.TrimSpace(line)
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		into[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
}

// parseLoginDefs reads login.defs(5) `KEY VALUE` lines.
func parseLoginDefs(b []byte) map[string]string {
	out := map[string]string{}
	for line := range textlines.Each(b) {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		out[f[0]] = strings.Trim(f[1], `"`)
	}
	return out
}

// maxQualityValue bounds a pwquality or cracklib number: libpwquality
// keeps them in a C int.
const maxQualityValue = math.MaxInt32

// quality is the password-content rules of pam_pwquality or pam_cracklib.
type quality struct {
	minlen, minclass                   int
	dcredit, ucredit, lcredit, ocredit int
	enforcing                          bool
	// set records which keys were given and where, for the facts.
	set map[string]string
}

// pwqualityDefaults are libpwquality's built-in values (pwquality.conf(5)).
func pwqualityDefaults() quality {
	return quality{minlen: 8, enforcing: true, set: map[string]string{}}
}

// crackLibDefaults are pam_cracklib's built-in values (pam_cracklib(8)).
func crackLibDefaults() quality {
	return quality{minlen: 9, dcredit: 1, ucredit: 1, lcredit: 1, ocredit: 1, enforcing: true, set: map[string]string{}}
}

// apply sets the quality keys found in kv, naming source for each.
func (q *quality) apply(kv map[string]string, source string) {
	ints := map[string]*int{
		"minlen": &q.minlen, "minclass": &q.minclass,
		"dcredit": &q.dcredit, "ucredit": &q.ucredit, "lcredit": &q.lcredit, "ocredit": &q.ocredit,
	}
	for k, p := range ints {
		if v, ok := kv[k]; ok {
			if n, err := strconv.Atoi(v); err == nil {
				*p = n
				q.set[k] = source
			}
		}
	}
	if v, ok := kv["enforcing"]; ok {
		if n, err := strconv.Atoi(v); err == nil {
			q.enforcing = n != 0
			q.set["enforcing"] = source
		}
	}
}

// effectiveLength is the shortest password the rules accept: each
// character class can earn up to its positive credit in "length", so a
// password of L characters scores at most L + min(L, credits); libpwquality
// never accepts fewer than 6 characters.
func (q quality) effectiveLength() int {
	// Values are bounded first so that no sum wraps: a credit can never
	// take more than the whole minlen, and the file may say anything.
	minlen := min(max(q.minlen, 0), maxQualityValue)
	credits := 0
	for _, c := range []int{q.dcredit, q.ucredit, q.lcredit, q.ocredit} {
		if c > 0 {
			credits += min(c, minlen)
		}
	}
	n := minlen - credits
	if half := (minlen + 1) / 2; n < half {
		n = half
	}
	return max(n, 6)
}

// requiredClasses is minclass or the classes with a negative credit
// (a required minimum count), whichever is more.
func (q quality) requiredClasses() int {
	neg := 0
	for _, c := range []int{q.dcredit, q.ucredit, q.lcredit, q.ocredit} {
		if c < 0 {
			neg++
		}
	}
	return min(max(q.minclass, neg), 4)
}

// describe names the keys that set the values, e.g.
// "minlen=12 (/etc/security/pwquality.conf)".
func (q quality) describe(keys ...string) string {
	vals := map[string]int{"minlen": q.minlen, "minclass": q.minclass, "dcredit": q.dcredit, "ucredit": q.ucredit, "lcredit": q.lcredit, "ocredit": q.ocredit}
	var parts []string
	for _, k := range keys {
		src, ok := q.set[k]
		if !ok {
			src = "default"
		}
		parts = append(parts, k+"="+strconv.Itoa(vals[k])+" ("+src+")")
	}
	return strings.Join(parts, ", ")
}
