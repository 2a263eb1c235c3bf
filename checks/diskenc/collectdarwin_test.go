package diskenc

import (
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

var (
	apfsListArgv = []string{diskutilPath, "apfs", "list", "-plist"}
	infoArgv     = []string{diskutilPath, "info", "-plist", "/"}
	fdeArgv      = []string{fdesetupPath, "status"}
)

func macHost(t *testing.T, list, info, fde string) *host.Fake {
	h := host.NewFake("darwin", "arm64")
	for argv, file := range map[*[]string]string{&apfsListArgv: list, &infoArgv: info, &fdeArgv: fde} {
		if file != "" {
			h.AddRun(*argv, host.Output{Stdout: checktest.Testdata(t, "darwin", file)}, nil)
		}
	}
	return h
}

func TestCollectDarwin(t *testing.T) {
	tests := []struct {
		name       string
		host       *host.Fake
		wantState  string
		wantStatus checks.Status
		wantInSum  string
		wantInFix  string
	}{
		{"FileVault on for the Data volume passes",
			macHost(t, "diskutil-apfs-list__filevault_on_handwritten.txt", "diskutil-info__root_handwritten.txt", "fdesetup__on.txt"),
			StateEncrypted, checks.StatusPass, "FileVault is on", ""},
		{"FileVault off fails",
			macHost(t, "diskutil-apfs-list__filevault_off_handwritten.txt", "diskutil-info__root_handwritten.txt", "fdesetup__off.txt"),
			StateNotEncrypted, checks.StatusFail, "not encrypted: data", "Turn On"},
		{"encryption still in progress fails and says to wait",
			macHost(t, "diskutil-apfs-list__filevault_off_handwritten.txt", "diskutil-info__root_handwritten.txt", "fdesetup__encrypting_handwritten.txt"),
			StateEncrypting, checks.StatusFail, "encryption not finished", "plugged in"},
		{"deferred enablement is still off",
			macHost(t, "diskutil-apfs-list__filevault_off_handwritten.txt", "", "fdesetup__deferred_handwritten.txt"),
			StateNotEncrypted, checks.StatusFail, "not encrypted", "FileVault"},
		{"a deferred-enablement line alone is still off",
			macHost(t, "diskutil-apfs-list__filevault_off_handwritten.txt", "diskutil-info__root_handwritten.txt", "fdesetup__deferred_line_only_depnotify58.txt"),
			StateNotEncrypted, checks.StatusFail, "not encrypted", "FileVault"},
		{"diskutil and fdesetup disagreeing cannot tell",
			macHost(t, "diskutil-apfs-list__filevault_on_handwritten.txt", "diskutil-info__root_handwritten.txt", "fdesetup__off.txt"),
			StateUnknown, checks.StatusUnknown, "but fdesetup says", ""},
		{"a real Apple silicon volume list with FileVault on passes",
			macHost(t, "diskutil-apfs-list__apple_silicon_nix_store_kolide.txt", "diskutil-info__root_handwritten.txt", "fdesetup__on.txt"),
			StateEncrypted, checks.StatusPass, "FileVault is on", ""},
		{"without diskutil fdesetup alone decides",
			macHost(t, "", "", "fdesetup__on.txt"),
			StateEncrypted, checks.StatusPass, "FileVault is on", ""},
		{"without fdesetup diskutil info alone decides",
			macHost(t, "", "diskutil-info__root_handwritten.txt", ""),
			StateEncrypted, checks.StatusPass, "FileVault is on", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, res := collectEval(t, "darwin", tc.host)
			if len(f.Volumes) != 1 || f.Volumes[0].State != tc.wantState {
				t.Errorf("volumes = %+v, want one %s", f.Volumes, tc.wantState)
			}
			if res.Status != tc.wantStatus || !strings.Contains(res.Summary, tc.wantInSum) {
				t.Errorf("result = %s %q, want %s mentioning %q", res.Status, res.Summary, tc.wantStatus, tc.wantInSum)
			}
			if !strings.Contains(res.Remediation, tc.wantInFix) {
				t.Errorf("remediation %q does not mention %q", res.Remediation, tc.wantInFix)
			}
		})
	}
}

func TestParseFdesetup(t *testing.T) {
	for file, want := range map[string]string{
		"fdesetup__on.txt":                             fdeOn,
		"fdesetup__off.txt":                            fdeOff,
		"fdesetup__deferred_handwritten.txt":           fdeOff,
		"fdesetup__deferred_line_only_depnotify58.txt": fdeOff,
		"fdesetup__encrypting_handwritten.txt":         fdeEncrypting,
	} {
		st, ok := parseFdesetup(checktest.Testdata(t, "darwin", file))
		if !ok || st.state != want {
			t.Errorf("%s: state %q (ok %t), want %q", file, st.state, ok, want)
		}
	}
	if _, ok := parseFdesetup([]byte("fdesetup: unknown verb\n")); ok {
		t.Error("an unknown answer was understood")
	}
}
