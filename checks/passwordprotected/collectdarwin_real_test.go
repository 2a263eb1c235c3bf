package passwordprotected

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// TestMacPasswordStateRealRecords reads user records of real OS X 10.7 and
// 10.8 Macs (published in Puppet's tests; see testdata/README.md): their
// ShadowHashData is a real hash of a real, non-empty password.
func TestMacPasswordStateRealRecords(t *testing.T) {
	tests := []struct {
		file       string
		wantState  string
		wantSource string
	}{
		// 10.8: SALTED-SHA512-PBKDF2, 24752 iterations; testing it for the
		// empty password must not match.
		{"user-jeff__osx108_pbkdf2_puppet.plist", PasswordSet, "ShadowHashData"},
		// 10.7: a plain SALTED-SHA512 entry, which is not tested.
		{"user-jeff__osx107_salted_sha512_puppet.plist", PasswordSet, "ShadowHashData (no PBKDF2 entry to test)"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			u, err := parseDSLocalUser(checktest.Testdata(t, "darwin", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"jeff", "28", ""}, []string{first(u.Name), first(u.UID), first(u.Shell)}); diff != "" {
				t.Errorf("name, uid, shell (-want +got):\n%s", diff)
			}
			state, disabled, src, err := macPasswordState(u)
			if err != nil || state != tc.wantState || disabled || src != tc.wantSource {
				t.Errorf("got %q disabled=%v %q err=%v, want %q enabled %q", state, disabled, src, err, tc.wantState, tc.wantSource)
			}
		})
	}
}

// TestCollectDarwinSkipsRealServiceRangeRecord: the real 10.8 record has
// UID 28 and no shell, so it is not an interactive account and does not
// change the verdict of the Mac around it.
func TestCollectDarwinSkipsRealServiceRangeRecord(t *testing.T) {
	h := macHost(t, "user-jdoe__password_handwritten.plist", "user-root__nohash_handwritten.plist",
		"user-_www__service_handwritten.plist", "user-old__disabled_blank_handwritten.plist",
		"user-jeff__osx108_pbkdf2_puppet.plist")
	res, f, err := run(t, h)
	if err != nil {
		t.Fatal(err)
	}
	want := "1 interactive account(s) with a password, 2 locked or disabled"
	if res.Status != checks.StatusPass || !strings.Contains(res.Summary, want) {
		t.Errorf("got %s %q, want pass containing %q", res.Status, res.Summary, want)
	}
	for _, a := range f.Accounts {
		if a.Name == "jeff" {
			t.Errorf("the UID 28 record was counted: %+v", a)
		}
	}
}
