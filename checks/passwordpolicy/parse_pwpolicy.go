package passwordpolicy

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/postern-dev/postern/checks/internal/plistval"
)

// accountPolicy is one entry of `pwpolicy -getaccountpolicies`.
type accountPolicy struct {
	Content    string         `plist:"policyContent"`
	Identifier string         `plist:"policyIdentifier"`
	Parameters map[string]any `plist:"policyParameters"`
}

// macPolicy is what the account policies and the managed profile require;
// a nil field was not set.
type macPolicy struct {
	minLength, classes, maxAge, history, lockout *int
	// emptyAllowed is set when the content rules accept an empty password.
	emptyAllowed bool
}

// parsePwpolicy reads `pwpolicy -getaccountpolicies`: a header line
// ("Getting global account policies") then an XML plist, or a message such
// as "No global policies are set." when there are none.
func parsePwpolicy(out []byte) (macPolicy, error) {
	var p macPolicy
	i := bytes.Index(out, []byte("<?xml"))
	if i < 0 {
		i = bytes.Index(out, []byte("<plist"))
	}
	if i < 0 {
		return p, nil
	}
	var doc map[string][]accountPolicy
	if _, err := plistval.Unmarshal(out[i:], &doc); err != nil {
		return p, fmt.Errorf("decode pwpolicy output: %w", err)
	}
	classes := map[string]bool{}
	for _, pol := range doc["policyCategoryPasswordContent"] {
		if n, ok := lengthOf(pol); ok && (p.minLength == nil || n > *p.minLength) {
			p.minLength = &n
		}
		for _, c := range classesOf(pol.Content) {
			classes[c] = true
		}
	}
	p.emptyAllowed = p.minLength != nil && *p.minLength == 0 && slices.ContainsFunc(doc["policyCategoryPasswordContent"], func(pol accountPolicy) bool { return acceptsEmpty(pol.Content) })
	if n := countClasses(classes); n > 0 {
		p.classes = &n
	}
	for _, cat := range doc {
		for _, pol := range cat {
			if v, ok := paramInt(pol.Parameters, "policyAttributeExpiresEveryNDays"); ok {
				p.maxAge = &v
			}
			if v, ok := paramInt(pol.Parameters, "policyAttributePasswordHistoryDepth"); ok {
				p.history = &v
			}
			if v, ok := paramInt(pol.Parameters, "policyAttributeMaximumFailedAuthentications"); ok {
				p.lockout = &v
			}
		}
	}
	return p, nil
}

var lengthRE = regexp.MustCompile(`\.\{(\d+),`)

// lengthOf finds a minimum length: a minimumLength parameter or a
// `matches '.{N,}'` expression. macOS's own default,
// `matches '^$|.{4,}+'`, also accepts an empty password (its description
// says "or leave the password field blank"), so its minimum is 0.
func lengthOf(pol accountPolicy) (int, bool) {
	if v, ok := paramInt(pol.Parameters, "minimumLength"); ok {
		return v, true
	}
	if acceptsEmpty(pol.Content) {
		return 0, true
	}
	if m := lengthRE.FindStringSubmatch(pol.Content); m != nil {
		n, err := strconv.Atoi(m[1])
		return n, err == nil
	}
	return 0, false
}

// acceptsEmpty reports a `matches` expression with an alternative that is
// the empty string (`^$`), which any other alternative cannot outweigh.
func acceptsEmpty(content string) bool {
	i, j := strings.IndexByte(content, '\''), strings.LastIndexByte(content, '\'')
	if !strings.Contains(content, "matches") || i < 0 || j <= i {
		return false
	}
	for _, alt := range strings.Split(content[i+1:j], "|") {
		if alt == "^$" {
			return true
		}
	}
	return false
}

// classesOf names the character classes one content rule demands.
func classesOf(content string) []string {
	if !strings.Contains(content, "matches") {
		return nil
	}
	switch {
	case strings.Contains(content, "[^"):
		return []string{"symbol"}
	case strings.Contains(content, "a-zA-Z"), strings.Contains(content, "A-Za-z"):
		return []string{"letter"}
	}
	var out []string
	if strings.Contains(content, "A-Z") {
		out = append(out, "upper")
	}
	if strings.Contains(content, "a-z") {
		out = append(out, "lower")
	}
	if strings.Contains(content, "0-9") || strings.Contains(content, `\d`) {
		out = append(out, "digit")
	}
	return out
}

// countClasses counts distinct classes; a bare "letter" rule is one class
// unless upper or lower are already required.
func countClasses(c map[string]bool) int {
	n := 0
	for _, k := range []string{"upper", "lower", "digit", "symbol"} {
		if c[k] {
			n++
		}
	}
	if c["letter"] && !c["upper"] && !c["lower"] {
		n++
	}
	return n
}

// paramInt reads an integer policy parameter within an int32's range
// (what Open Directory stores); a larger number, a fraction or a NaN is
// not a setting, and converting it would give a different value on
// arm64 and amd64.
func paramInt(params map[string]any, key string) (int, bool) {
	var n int64
	switch v := params[key].(type) {
	case uint64:
		if v > math.MaxInt32 {
			return 0, false
		}
		n = int64(v)
	case int64:
		n = v
	case float64:
		if v != math.Trunc(v) || v < math.MinInt32 || v > math.MaxInt32 { // NaN fails too
			return 0, false
		}
		n = int64(v)
	case string:
		x, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			return 0, false
		}
		n = x
	default:
		return 0, false
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return 0, false
	}
	return int(n), true
}

// managedPasscode is the Passcode payload of a configuration profile
// as written to /Library/Managed Preferences.
type managedPasscode struct {
	MinLength           *int  `plist:"minLength"`
	MinComplexChars     *int  `plist:"minComplexChars"`
	RequireAlphanumeric *bool `plist:"requireAlphanumeric"`
	MaxPINAgeInDays     *int  `plist:"maxPINAgeInDays"`
	PinHistory          *int  `plist:"pinHistory"`
	MaxFailedAttempts   *int  `plist:"maxFailedAttempts"`
}

// parseManagedPasscode reads the managed password policy; classes count
// letters and digits (requireAlphanumeric) and symbols (minComplexChars).
func parseManagedPasscode(b []byte) (macPolicy, error) {
	var m managedPasscode
	if _, err := plistval.Unmarshal(b, &m); err != nil {
		return macPolicy{}, fmt.Errorf("decode managed password policy: %w", err)
	}
	p := macPolicy{minLength: m.MinLength, maxAge: m.MaxPINAgeInDays, history: m.PinHistory, lockout: m.MaxFailedAttempts}
	if m.RequireAlphanumeric != nil || m.MinComplexChars != nil {
		n := 0
		if m.RequireAlphanumeric != nil && *m.RequireAlphanumeric {
			n += 2
		}
		if m.MinComplexChars != nil && *m.MinComplexChars > 0 {
			n++
		}
		p.classes = &n
	}
	return p, nil
}
