package passwordpolicy

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/postern-dev/postern/checks/internal/checktest"
)

// The parsers below read configuration files and tool output (PAM
// stacks, pwquality.conf, login.defs, secedit's INF, net accounts,
// pwpolicy's plist). Whatever the bytes, they must not panic, must stay
// bounded by their input and must not make up numbers. `go test` runs
// the seeds; `go test -fuzz` explores from them.

func FuzzParsePAM(f *testing.F) {
	checktest.AddSeeds(f, "linux", "common-")
	checktest.AddSeeds(f, "linux", "system-auth")
	f.Add([]byte("password [success=1 default=ignore] pam_unix.so obscure\n-auth [default=die]x pam_faillock.so authfail deny=3\n@include\npassword include /etc/pam.d/x\n[a [b ] c"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rules := parsePAM(b)
		if len(rules) > checktest.LineCount(b) {
			t.Fatalf("%d rules from %d lines", len(rules), checktest.LineCount(b))
		}
		for _, l := range rules {
			if l.include == "" && (l.control == "" || l.module == "") || strings.Contains(l.typ+l.control+l.module+l.include, "\n") {
				t.Fatalf("rule %+v", l)
			}
		}
	})
}

// pamTokensSimple is pamTokens as it was before its quadratic search for
// '[' was removed: the reference the fast version must agree with.
func pamTokensSimple(line string) []string {
	var toks []string
	for line != "" {
		line = strings.TrimLeft(line, " \t")
		if line == "" {
			break
		}
		end := strings.IndexAny(line, " \t")
		if open := strings.IndexByte(line, '['); open >= 0 && (end < 0 || open < end) {
			if close := strings.IndexByte(line[open:], ']'); close >= 0 {
				end = open + close + 1
				if end < len(line) && line[end] != ' ' && line[end] != '\t' {
					if e2 := strings.IndexAny(line[end:], " \t"); e2 >= 0 {
						end += e2
					} else {
						end = len(line)
					}
				}
			}
		}
		if end < 0 {
			end = len(line)
		}
		toks = append(toks, line[:end])
		line = line[end:]
	}
	return toks
}

func FuzzPamTokens(f *testing.F) {
	for _, s := range []string{"password [success=1 default=ignore] pam_unix.so", "[a [b ]c d]", "a[ ] b]", "\t[x\t]y z", "[[[ ]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		toks := pamTokens(line)
		blanks := func(s string) string { return strings.NewReplacer(" ", "", "\t", "").Replace(s) }
		if blanks(strings.Join(toks, "")) != blanks(line) {
			t.Fatalf("tokens %q lose or add text of %q", toks, line)
		}
		for _, tok := range toks {
			if tok == "" || tok[0] == ' ' || tok[0] == '\t' {
				t.Fatalf("token %q", tok)
			}
		}
		if want := pamTokensSimple(line); strings.Join(want, "\x00") != strings.Join(toks, "\x00") {
			t.Fatalf("pamTokens(%q) = %q, want %q", line, toks, want)
		}
	})
}

func FuzzParseKeyValue(f *testing.F) {
	checktest.AddSeeds(f, "linux", "pwquality")
	checktest.AddSeeds(f, "linux", "faillock")
	f.Fuzz(func(t *testing.T, b []byte) {
		kv := map[string]string{}
		parseKeyValue(b, kv)
		if len(kv) > checktest.LineCount(b) {
			t.Fatalf("%d keys from %d lines", len(kv), checktest.LineCount(b))
		}
		for k, v := range kv {
			if strings.TrimSpace(k) != k || strings.TrimSpace(v) != v || strings.Contains(k+v, "#") {
				t.Fatalf("%q = %q", k, v)
			}
		}
		// The quality rules built from any file stay in range.
		q := pwqualityDefaults()
		q.apply(kv, "fuzz")
		if n := q.effectiveLength(); n < 6 || n > max(q.minlen, 6) {
			t.Fatalf("effective length %d from minlen %d and credits %d %d %d %d", n, q.minlen, q.dcredit, q.ucredit, q.lcredit, q.ocredit)
		}
		if c := q.requiredClasses(); c < 0 || c > 4 {
			t.Fatalf("%d classes", c)
		}
	})
}

func FuzzParseLoginDefs(f *testing.F) {
	checktest.AddSeeds(f, "linux", "login.defs")
	f.Fuzz(func(t *testing.T, b []byte) {
		defs := parseLoginDefs(b)
		if len(defs) > checktest.LineCount(b) {
			t.Fatalf("%d keys from %d lines", len(defs), checktest.LineCount(b))
		}
		for k := range defs {
			if k == "" || strings.HasPrefix(k, "#") {
				t.Fatalf("key %q", k)
			}
		}
	})
}

func FuzzParseSeceditSystemAccess(f *testing.F) {
	checktest.AddSeeds(f, "windows", "secpol.inf")
	f.Add([]byte("\xff\xfe[\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		vals := parseSeceditSystemAccess(b)
		if len(vals) > checktest.LineCount(b) {
			t.Fatalf("%d values from %d lines", len(vals), checktest.LineCount(b))
		}
	})
}

func FuzzParseNetAccounts(f *testing.F) {
	checktest.AddSeeds(f, "windows", "net-accounts")
	f.Fuzz(func(t *testing.T, b []byte) {
		na, ok := parseNetAccounts(b)
		if !ok && na != (netAccounts{}) {
			t.Fatalf("not understood, but %+v", na)
		}
		if na.maxAge < 0 || na.minLength < 0 || na.history < 0 || na.lockout < 0 {
			t.Fatalf("negative value in %+v", na)
		}
	})
}

func FuzzDecodeText(f *testing.F) {
	checktest.AddSeeds(f, "windows", "secpol.inf")
	f.Fuzz(func(t *testing.T, b []byte) {
		s := decodeText(b)
		if len(b) >= 2 && b[0] == 0xff && b[1] == 0xfe && !utf8.ValidString(s) {
			t.Fatalf("UTF-16 decoded to invalid UTF-8 %q", s)
		}
		// UTF-16 units become at most three bytes of UTF-8 each.
		if len(s) > 3*len(b)/2+len(b) {
			t.Fatalf("%d bytes from %d", len(s), len(b))
		}
	})
}

// checkMacPolicy checks what any pwpolicy or profile input may give:
// numbers Open Directory can hold, and at most four classes.
func checkMacPolicy(t *testing.T, p macPolicy) {
	t.Helper()
	for name, v := range map[string]*int{"minLength": p.minLength, "maxAge": p.maxAge, "history": p.history, "lockout": p.lockout} {
		if v != nil && (*v < -1<<31 || *v > 1<<31-1) {
			t.Fatalf("%s = %d", name, *v)
		}
	}
	if p.classes != nil && (*p.classes < 0 || *p.classes > 4) {
		t.Fatalf("%d classes", *p.classes)
	}
}

func FuzzParsePwpolicy(f *testing.F) {
	checktest.AddSeeds(f, "darwin", "pwpolicy")
	f.Add([]byte(`<?xml version="1.0"?><plist version="1.0"><dict><key>policyCategoryAuthentication</key><array><dict><key>policyParameters</key><dict>` +
		`<key>policyAttributeMaximumFailedAuthentications</key><real>1e300</real><key>policyAttributeExpiresEveryNDays</key><real>nan</real>` +
		`<key>policyAttributePasswordHistoryDepth</key><integer>18446744073709551615</integer></dict></dict></array></dict></plist>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parsePwpolicy(b)
		if err != nil {
			return
		}
		checkMacPolicy(t, p)
	})
}

func FuzzParseManagedPasscode(f *testing.F) {
	checktest.AddSeeds(f, "darwin", "managed-passwordpolicy")
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parseManagedPasscode(b)
		if err != nil {
			return
		}
		if p.classes != nil && (*p.classes < 0 || *p.classes > 3) {
			t.Fatalf("%d classes", *p.classes)
		}
	})
}

func FuzzParseAccountLockoutPolicy(f *testing.F) {
	f.Add("AccountLockoutDuration:30, AccountLockoutThreshold:5, ResetAccountLockoutCounterAfter:60")
	f.Add("AccountLockoutThreshold:-1,AccountLockoutThreshold:9999999999999999999\x00")
	f.Fuzz(func(t *testing.T, s string) {
		if n, ok := parseAccountLockoutPolicy(s); ok && (n < 0 || n > 999) {
			t.Fatalf("parseAccountLockoutPolicy(%q) = %d, %t", s, n, ok)
		}
	})
}
