package passwordpolicy

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

func debian(t *testing.T) *host.Fake {
	return host.NewFake("linux", "amd64").
		AddFile(pamDir+"common-password", checktest.Testdata(t, "linux", "common-password__debian12.txt")).
		AddFile(pamDir+"common-auth", checktest.Testdata(t, "linux", "common-auth__debian12.txt")).
		AddFile(loginDefsPath, checktest.Testdata(t, "linux", "login.defs__debian12.txt")).
		AddFile(faillockConf, checktest.Testdata(t, "linux", "faillock.conf__debian12_default.txt")).
		AddFile(passwdPath, checktest.Testdata(t, "linux", "passwd__laptop_handwritten.txt")).
		AddFile(shadowPath, checktest.Testdata(t, "linux", "shadow__laptop_max90_handwritten.txt"))
}

func hardened(t *testing.T) *host.Fake {
	dropIn := "/etc/security/pwquality.conf.d/50-policy.conf"
	return debian(t).
		AddFile(pamDir+"common-password", checktest.Testdata(t, "linux", "common-password__hardened.txt")).
		AddFile(pamDir+"common-auth", checktest.Testdata(t, "linux", "common-auth__faillock.txt")).
		AddFile(pwqualityConf, checktest.Testdata(t, "linux", "pwquality.conf__debian12_default.txt")).
		AddGlob(pwqualityConfDir, []string{dropIn}, nil).
		AddFile(dropIn, checktest.Testdata(t, "linux", "pwquality.conf.d-50-policy.conf__handwritten.txt")).
		AddFile(faillockConf, checktest.Testdata(t, "linux", "faillock.conf__deny5.txt")).
		AddFile(loginDefsPath, checktest.Testdata(t, "linux", "login.defs__max90.txt"))
}

func TestCollectLinux(t *testing.T) {
	noShadow := host.Wrap(host.ErrPermission, errors.New("open /etc/shadow: permission denied"))
	tests := []collectCase{
		{"Debian's defaults fail every sub-rule", debian(t).AddFile(shadowPath, checktest.Testdata(t, "linux", "shadow__laptop_bob_never_handwritten.txt")), checks.StatusFail,
			map[string]any{"min_length": 6, "min_classes": 0, "max_age_days": 99999, "history": 0, "lockout_threshold": 0},
			"min_length 6 (needs >= 8), min_classes 0 (needs >= 3 of 4), max_age_days 99999 (needs 1-90), history 0 (needs >= 6), lockout_threshold never locks (needs 1-5)"},
		{"accounts whose own maximum age is 90 are judged, not login.defs' 99999 for new accounts", debian(t), checks.StatusFail,
			map[string]any{"min_length": 6, "min_classes": 0, "max_age_days": 90, "history": 0, "lockout_threshold": 0},
			"min_length 6 (needs >= 8), min_classes 0 (needs >= 3 of 4), history 0 (needs >= 6), lockout_threshold never locks (needs 1-5)"},
		{"a hardened Debian passes", hardened(t), checks.StatusPass,
			map[string]any{"min_length": 12, "min_classes": 3, "max_age_days": 90, "history": 6, "lockout_threshold": 5},
			"length 12, 3 classes, expiry 90 days, history 6, lockout after 5 failures"},
		{"an existing password that never expires fails despite login.defs",
			hardened(t).AddFile(shadowPath, checktest.Testdata(t, "linux", "shadow__laptop_bob_never_handwritten.txt")), checks.StatusFail,
			map[string]any{"min_length": 12, "min_classes": 3, "max_age_days": 99999, "history": 6, "lockout_threshold": 5},
			"password rules too weak: max_age_days 99999"},
		{"an authselect RHEL stack passes on its module arguments",
			host.NewFake("linux", "amd64").
				AddFile(pamDir+"system-auth", checktest.Testdata(t, "linux", "system-auth__rhel9_handwritten.txt")).
				AddFile(loginDefsPath, checktest.Testdata(t, "linux", "login.defs__max90.txt")).
				AddFileError(shadowPath, noShadow),
			checks.StatusPass,
			map[string]any{"min_length": 14, "min_classes": 4, "max_age_days": 90, "history": 24, "lockout_threshold": 4},
			"length 14, 4 classes"},
		{"pwquality with enforcing=0 in a CRLF file only warns, so it fails",
			hardened(t).AddFile(pwqualityConf, checktest.Testdata(t, "linux", "pwquality.conf__not_enforcing_crlf_handwritten.txt")), checks.StatusFail,
			map[string]any{"min_length": 6, "min_classes": 0, "max_age_days": 90, "history": 6, "lockout_threshold": 5},
			"min_length 6 (needs >= 8), min_classes 0"},
		{"cracklib's length credits and tally2's high deny fail",
			debian(t).
				AddFile(pamDir+"common-password", checktest.Testdata(t, "linux", "common-password__cracklib_credits_handwritten.txt")).
				AddFile(pamDir+"common-auth", checktest.Testdata(t, "linux", "common-auth__tally2_handwritten.txt")).
				AddFile(loginDefsPath, checktest.Testdata(t, "linux", "login.defs__max90.txt")),
			checks.StatusFail,
			map[string]any{"min_length": 6, "min_classes": 0, "max_age_days": 90, "history": 5, "lockout_threshold": 10},
			"min_length 6 (needs >= 8), min_classes 0 (needs >= 3 of 4), history 5 (needs >= 6), lockout_threshold 10 (needs 1-5)"},
		{"pam_faillock preauth without authfail records nothing, so it never locks",
			hardened(t).AddFile(pamDir+"common-auth", checktest.Testdata(t, "linux", "common-auth__faillock_preauth_only_handwritten.txt")), checks.StatusFail,
			map[string]any{"min_length": 12, "min_classes": 3, "max_age_days": 90, "history": 6, "lockout_threshold": 0},
			"lockout_threshold never locks (needs 1-5)"},
		{"pam_faillock authfail without preauth or authsucc never refuses a right password, so it never locks",
			hardened(t).AddFile(pamDir+"common-auth", checktest.Testdata(t, "linux", "common-auth__faillock_authfail_only_handwritten.txt")), checks.StatusFail,
			map[string]any{"min_length": 12, "min_classes": 3, "max_age_days": 90, "history": 6, "lockout_threshold": 0},
			"lockout_threshold never locks (needs 1-5)"},
		{"pam_faillock conf= is the file read for deny",
			hardened(t).AddFile(pamDir+"common-auth", checktest.Testdata(t, "linux", "common-auth__faillock_conf_handwritten.txt")).
				AddFile("/etc/security/faillock-strict.conf", []byte("deny = 4\n")), checks.StatusPass,
			map[string]any{"min_length": 12, "min_classes": 3, "max_age_days": 90, "history": 6, "lockout_threshold": 4},
			"lockout after 4 failures"},
		{"a pam_faillock conf= file that is missing is unknown, not the default",
			hardened(t).AddFile(pamDir+"common-auth", checktest.Testdata(t, "linux", "common-auth__faillock_conf_handwritten.txt")), checks.StatusUnknown,
			map[string]any{"min_length": 12, "min_classes": 3, "max_age_days": 90, "history": 6, "lockout_threshold": "unknown"},
			"faillock-strict.conf"},
	}
	runCollectCases(t, tests, "pwquality")
	t.Run("the evidence says which maximum age was judged and which was not", func(t *testing.T) {
		r, _, err := run(t, debian(t))
		if err != nil {
			t.Fatal(err)
		}
		e := r.Evidence["max_age_days"].(map[string]any)
		if src := e["source"].(string); !strings.Contains(src, shadowPath+" maximum age of") {
			t.Errorf("source = %q, want the shadow account", src)
		}
		if d, _ := e["detail"].(string); !strings.Contains(d, "not judged") || !strings.Contains(d, "99999") {
			t.Errorf("detail = %q, want login.defs' value marked as not judged", d)
		}
	})
	t.Run("an unreadable shadow is noted on the maximum age", func(t *testing.T) {
		_, f, err := run(t, hardened(t).AddFileError(shadowPath, noShadow))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(f.MaxAgeDays.Detail, "needs root") {
			t.Errorf("detail = %q", f.MaxAgeDays.Detail)
		}
	})
	t.Run("a machine without a PAM stack is an error", func(t *testing.T) {
		_, _, err := run(t, host.NewFake("linux", "amd64"))
		if err == nil || !strings.Contains(err.Error(), "common-password") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestQualityRules(t *testing.T) {
	tests := []struct {
		name             string
		q                quality
		wantLen, wantCls int
	}{
		{"pwquality defaults accept 8 characters of one class", pwqualityDefaults(), 8, 0},
		{"cracklib's default credits let 6 characters through minlen 9", crackLibDefaults(), 6, 0},
		{"negative credits require their classes", quality{minlen: 10, dcredit: -1, ucredit: -2, ocredit: 1}, 9, 2},
		{"minclass wins over fewer negative credits", quality{minlen: 12, minclass: 3, dcredit: -1}, 12, 3},
		{"minlen below 6 is raised to 6", quality{minlen: 4}, 6, 0},
		// Found by FuzzCollectLinux: sums that wrapped made up a length.
		{"credits too large to add up do not wrap into a longer minimum", quality{minlen: 8, dcredit: math.MaxInt, ucredit: math.MaxInt}, 6, 0},
		{"the most negative minlen is no minimum, not a huge one", quality{minlen: math.MinInt, dcredit: 1}, 6, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.q.effectiveLength(); got != tc.wantLen {
				t.Errorf("length = %d, want %d", got, tc.wantLen)
			}
			if got := tc.q.requiredClasses(); got != tc.wantCls {
				t.Errorf("classes = %d, want %d", got, tc.wantCls)
			}
		})
	}
}

func TestParsePAM(t *testing.T) {
	in := "# comment\n@include common-password\n" +
		"password\t[success=1 default=ignore]\tpam_unix.so obscure yescrypt\r\n" +
		"-auth optional /usr/lib/security/pam_gnome_keyring.so\n" +
		"password substack system-auth\n"
	want := []pamLine{
		{include: "common-password"},
		{typ: "password", control: "[success=1 default=ignore]", module: "pam_unix.so", args: []string{"obscure", "yescrypt"}},
		{typ: "auth", control: "optional", module: "pam_gnome_keyring.so", args: []string{}},
		{typ: "password", control: "substack", include: "system-auth", args: []string{}},
	}
	if diff := cmp.Diff(want, parsePAM([]byte(in)), cmp.AllowUnexported(pamLine{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
