package passwordprotected

import (
	"errors"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

const usersDir = "/var/db/dslocal/nodes/Default/users/"

func macHost(t *testing.T, users ...string) *host.Fake {
	h := host.NewFake("darwin", "arm64").
		AddFile(loginwindowPlist, checktest.Testdata(t, "darwin", "com.apple.loginwindow__default_binary_handwritten.plist"))
	var paths []string
	for _, u := range users {
		p := usersDir + strings.SplitN(strings.TrimPrefix(u, "user-"), "__", 2)[0] + ".plist"
		paths = append(paths, p)
		h.AddFile(p, checktest.Testdata(t, "darwin", u))
	}
	return h.AddGlob(dslocalUsers, paths, nil)
}

func TestCollectDarwin(t *testing.T) {
	normal := []string{"user-jdoe__password_handwritten.plist", "user-root__nohash_handwritten.plist", "user-_www__service_handwritten.plist", "user-old__disabled_blank_handwritten.plist"}
	tests := []struct {
		name        string
		host        *host.Fake
		want        checks.Status
		wantSummary string
	}{
		{"a Mac whose only blank account is disabled passes", macHost(t, normal...),
			checks.StatusPass, "1 interactive account(s) with a password, 2 locked or disabled"},
		{"a Mac whose accounts are all without a password hash or disabled is unknown, not a pass",
			macHost(t, "user-root__nohash_handwritten.plist", "user-_www__service_handwritten.plist", "user-old__disabled_blank_handwritten.plist"),
			checks.StatusUnknown, "no interactive account has a password (2 locked or disabled"},
		{"an account whose password is empty fails", macHost(t, append(normal, "user-kiosk__blank_handwritten.plist")...),
			checks.StatusFail, "with no password: kiosk"},
		{"automatic login with kcpassword fails",
			macHost(t, normal...).
				AddFile(loginwindowPlist, checktest.Testdata(t, "darwin", "com.apple.loginwindow__autologin_binary_handwritten.plist")).
				AddStat(kcpasswordPath, host.FileInfo{Name: "kcpassword", Mode: 0o600, Size: 12}, nil),
			checks.StatusFail, "loginwindow signs in jdoe (/Library/Preferences/com.apple.loginwindow.plist autoLoginUser), password stored"},
		{"a leftover kcpassword alone fails", macHost(t, normal...).AddStat(kcpasswordPath, host.FileInfo{Name: "kcpassword", Mode: 0o600}, nil),
			checks.StatusFail, "kcpassword"},
		{"an agent that cannot list the accounts cannot tell",
			host.NewFake("darwin", "arm64").AddGlob(dslocalUsers, nil, host.Wrap(host.ErrPermission, errors.New("open /var/db/dslocal/nodes/Default/users: permission denied"))),
			checks.StatusUnknown, "needs root"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, _, err := run(t, tc.host)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.want || !strings.Contains(res.Summary, tc.wantSummary) {
				t.Errorf("got %s %q, want %s containing %q", res.Status, res.Summary, tc.want, tc.wantSummary)
			}
			if res.Status == checks.StatusFail && !strings.Contains(res.Remediation, "System Settings") {
				t.Errorf("remediation %q", res.Remediation)
			}
		})
	}
}
