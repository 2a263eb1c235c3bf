package passwordpolicy

import (
	"errors"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

var (
	seceditArgv = []string{`C:\WINDOWS\System32\secedit.exe`, "/export", "/cfg", `C:\ProgramData\Postern\secpol.inf`, "/areas", "SECURITYPOLICY", "/quiet"}
	netArgv     = []string{`C:\WINDOWS\System32\net.exe`, "accounts"}
	notDomain   = host.Wrap(host.ErrNotFound, errors.New("wmi query in root\\RSOP\\Computer: powershell exited 1: Invalid namespace"))
)

func windowsHost(t *testing.T, inf string) *host.Fake {
	return host.NewFake("windows", "amd64").
		AddRegistry(currentVersionKey, "SystemRoot", host.RegistryValue{Type: "REG_SZ", String: `C:\WINDOWS`}, nil).
		AddRun(seceditArgv, host.Output{Stdout: []byte("\r\nThe task has completed successfully.\r\n")}, nil).
		AddFile(`C:\ProgramData\Postern\secpol.inf`, checktest.Testdata(t, "windows", inf)).
		AddWMI(rsopNamespace, rsopNumeric, nil, notDomain).
		AddWMI(rsopNamespace, rsopBoolean, nil, notDomain)
}

func TestCollectWindows(t *testing.T) {
	denied := host.Output{Stdout: []byte("\r\nTask is completed. Errors occurred.\r\n"), ExitCode: 3}
	tests := []collectCase{
		{"Windows' defaults fail", windowsHost(t, "secpol.inf__win11_defaults_utf16_handwritten.txt"), checks.StatusFail,
			map[string]any{"min_length": 0, "min_classes": 0, "max_age_days": 42, "history": 0, "lockout_threshold": 10},
			"min_length 0 (needs >= 8), min_classes 0 (needs >= 3 of 4), history 0 (needs >= 6), lockout_threshold 10 (needs 1-5)"},
		{"a hardened local policy passes", windowsHost(t, "secpol.inf__hardened_utf16_handwritten.txt"), checks.StatusPass,
			map[string]any{"min_length": 8, "min_classes": 3, "max_age_days": 90, "history": 6, "lockout_threshold": 5},
			"length 8, 3 classes, expiry 90 days"},
		{"a password that never expires fails", windowsHost(t, "secpol.inf__never_expires_utf16_handwritten.txt"), checks.StatusFail,
			map[string]any{"min_length": 14, "min_classes": 3, "max_age_days": 0, "history": 24, "lockout_threshold": 5},
			"max_age_days never expires (needs 1-90)"},
		{"a real STIG security template (ASCII, CRLF, a quoted string value) is read and its history of 5 fails",
			windowsHost(t, "secpol.inf__stig_gpttmpl_tsumihara.txt"), checks.StatusFail,
			map[string]any{"min_length": 8, "min_classes": 3, "max_age_days": 30, "history": 5, "lockout_threshold": 5},
			"history 5 (needs >= 6)"},
		{"domain Group Policy overrides the local values",
			windowsHost(t, "secpol.inf__win11_defaults_utf16_handwritten.txt").
				AddWMI(rsopNamespace, rsopNumeric, []map[string]any{
					{"KeyName": "MinimumPasswordLength", "Setting": 12}, {"KeyName": "MaximumPasswordAge", "Setting": 60},
					{"KeyName": "PasswordHistorySize", "Setting": 24}, {"KeyName": "LockoutBadCount", "Setting": 5},
				}, nil).
				AddWMI(rsopNamespace, rsopBoolean, []map[string]any{{"KeyName": "PasswordComplexity", "Setting": true}}, nil),
			checks.StatusPass,
			map[string]any{"min_length": 12, "min_classes": 3, "max_age_days": 60, "history": 24, "lockout_threshold": 5},
			"length 12"},
		{"without admin rights secedit fails and English net accounts leaves complexity unknown",
			windowsHost(t, "secpol.inf__hardened_utf16_handwritten.txt").
				AddRun(seceditArgv, denied, nil).
				AddRun(netArgv, host.Output{Stdout: checktest.Testdata(t, "windows", "net-accounts__en-US_handwritten.txt")}, nil),
			checks.StatusFail,
			map[string]any{"min_length": 0, "min_classes": "unknown", "max_age_days": 42, "history": 0, "lockout_threshold": 10},
			"min_length 0"},
		{"a real English net accounts (LF, narrower padding, a localized None) is read by position",
			windowsHost(t, "secpol.inf__hardened_utf16_handwritten.txt").
				AddRun(seceditArgv, denied, nil).
				AddRun(netArgv, host.Output{Stdout: checktest.Testdata(t, "windows", "net-accounts__en_pwk_notes_0xkourama.txt")}, nil),
			checks.StatusFail,
			map[string]any{"min_length": 0, "min_classes": "unknown", "max_age_days": 42, "history": 0, "lockout_threshold": 5},
			"min_length 0 (needs >= 8), history 0 (needs >= 6)"},
		{"German net accounts with localized words is read by position",
			windowsHost(t, "secpol.inf__hardened_utf16_handwritten.txt").
				AddRun(seceditArgv, host.Output{}, host.Wrap(host.ErrNotFound, errors.New("secedit.exe not found"))).
				AddRun(netArgv, host.Output{Stdout: checktest.Testdata(t, "windows", "net-accounts__de-DE_cp850_handwritten.txt")}, nil),
			checks.StatusFail,
			map[string]any{"min_length": 12, "min_classes": "unknown", "max_age_days": 0, "history": 24, "lockout_threshold": 5},
			"max_age_days never expires"},
	}
	runCollectCases(t, tests, "secpol.msc")
	t.Run("with neither secedit nor net accounts the collector says why", func(t *testing.T) {
		h := windowsHost(t, "secpol.inf__hardened_utf16_handwritten.txt").AddRun(seceditArgv, denied, nil)
		_, _, err := run(t, h)
		if err == nil || !strings.Contains(err.Error(), "administrator") || !strings.Contains(err.Error(), "net accounts") {
			t.Fatalf("err = %v", err)
		}
	})
}
