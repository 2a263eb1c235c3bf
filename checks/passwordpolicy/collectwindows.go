package passwordpolicy

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/postern-dev/postern/checks/host"
)

const (
	currentVersionKey = `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`
	// seceditExport is where secedit writes the exported policy. The host
	// interface has no temporary-file primitive, so it is a fixed path in
	// the agent's own data folder (which only SYSTEM and administrators can
	// write), overwritten on every check; it holds no secrets.
	seceditExport = `\ProgramData\Postern\secpol.inf`
	rsopNamespace = `root\RSOP\Computer`
	rsopNumeric   = "SELECT KeyName, Setting FROM RSOP_SecuritySettingNumeric WHERE precedence=1"
	rsopBoolean   = "SELECT KeyName, Setting FROM RSOP_SecuritySettingBoolean WHERE precedence=1"
)

// systemRoot is the Windows folder as the registry records it, so that
// tools run from where Windows is, not from a PATH.
func systemRoot(h host.Host) string {
	if v, err := h.Registry(currentVersionKey, "SystemRoot"); err == nil && v.String != "" {
		return strings.TrimRight(v.String, `\`)
	}
	return `C:\Windows`
}

func collectWindows(ctx context.Context, h host.Host) (*Facts, error) {
	root := systemRoot(h)
	f := &Facts{Sources: []string{}}
	vals, src, err := seceditValues(ctx, h, root)
	if err != nil {
		f.Notes = append(f.Notes, err.Error())
		na, nerr := netAccountsValues(ctx, h, root)
		if nerr != nil {
			return nil, fmt.Errorf("read the local security policy: %v; fallback: %w", err, nerr)
		}
		vals, src = na, "net accounts"
	}
	f.Sources = append(f.Sources, src)
	domain := rsopValues(ctx, h, f)
	pick := func(key string) (int, string, bool) {
		if v, ok := domain[key]; ok {
			return v, "domain Group Policy (RSOP " + key + ")", true
		}
		v, ok := vals[key]
		return v, src + " " + key, ok
	}
	set := func(dst *Setting, key string, conv func(int) int) {
		v, s, ok := pick(key)
		if !ok {
			*dst = unknown(src + " does not show " + key)
			return
		}
		*dst = known(conv(v), s)
	}
	same := func(v int) int { return v }
	never := func(v int) int { return max(v, 0) } // -1 is "never"
	set(&f.MinLength, "MinimumPasswordLength", same)
	// Windows complexity demands three of its five categories.
	set(&f.MinClasses, "PasswordComplexity", func(v int) int {
		if v != 0 {
			return 3
		}
		return 0
	})
	set(&f.MaxAgeDays, "MaximumPasswordAge", never)
	set(&f.History, "PasswordHistorySize", same)
	set(&f.LockoutThreshold, "LockoutBadCount", same)
	applyDeviceLock(h, f, readDeviceLock(h, f), domain)
	return f, nil
}

// seceditValues exports the effective local policy and reads its INF.
func seceditValues(ctx context.Context, h host.Host, root string) (map[string]int, string, error) {
	exe := root + `\System32\secedit.exe`
	cfg := root[:2] + seceditExport
	cctx, cancel := context.WithTimeout(ctx, host.DefaultCommandTimeout)
	defer cancel()
	out, err := h.Run(cctx, exe, "/export", "/cfg", cfg, "/areas", "SECURITYPOLICY", "/quiet")
	if err != nil {
		return nil, "", fmt.Errorf("run secedit: %w", err)
	}
	if out.ExitCode != 0 {
		return nil, "", fmt.Errorf("secedit /export exited %d (it needs administrator rights): %s", out.ExitCode, firstLine(out.Stdout, out.Stderr))
	}
	b, err := h.ReadFile(cfg)
	if err != nil {
		return nil, "", fmt.Errorf("read the secedit export %s: %w", cfg, err)
	}
	vals := parseSeceditSystemAccess(b)
	if len(vals) == 0 {
		return nil, "", fmt.Errorf("the secedit export %s has no [System Access] values", cfg)
	}
	return vals, "secedit /export " + cfg, nil
}

// netAccountsValues is the fallback: localized text, no complexity.
func netAccountsValues(ctx context.Context, h host.Host, root string) (map[string]int, error) {
	cctx, cancel := context.WithTimeout(ctx, host.DefaultCommandTimeout)
	defer cancel()
	out, err := h.Run(cctx, root+`\System32\net.exe`, "accounts")
	if err != nil {
		return nil, fmt.Errorf("run net accounts: %w", err)
	}
	na, ok := parseNetAccounts(out.Stdout)
	if out.ExitCode != 0 || !ok {
		return nil, fmt.Errorf("net accounts exited %d without the policy: %s", out.ExitCode, firstLine(out.Stdout, out.Stderr))
	}
	return map[string]int{
		"MaximumPasswordAge": na.maxAge, "MinimumPasswordLength": na.minLength,
		"PasswordHistorySize": na.history, "LockoutBadCount": na.lockout,
	}, nil
}

// rsopValues reads the winning domain Group Policy settings, when the
// machine has them; their absence is normal on a machine not in a domain.
func rsopValues(ctx context.Context, h host.Host, f *Facts) map[string]int {
	out := map[string]int{}
	for _, q := range []string{rsopNumeric, rsopBoolean} {
		rows, err := h.WMI(ctx, rsopNamespace, q)
		if err != nil {
			if !errors.Is(err, host.ErrNotFound) {
				f.Notes = append(f.Notes, "domain policy not read: "+err.Error())
			}
			continue
		}
		for _, r := range rows {
			k, _ := r["KeyName"].(string)
			if v, ok := wmiInt(r["Setting"]); ok && k != "" {
				out[k] = v
			}
		}
	}
	if len(out) > 0 {
		f.Sources = append(f.Sources, "WMI "+rsopNamespace+" RSOP_SecuritySetting*")
	}
	return out
}

// wmiInt reads a WMI number or boolean.
func wmiInt(v any) (int, bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case float64:
		return int(x), true
	case interface{ String() string }:
		n, err := strconv.Atoi(x.String())
		return n, err == nil
	case string:
		n, err := strconv.Atoi(x)
		return n, err == nil
	}
	return 0, false
}

func firstLine(outs ...[]byte) string {
	for _, o := range outs {
		s := strings.TrimSpace(decodeText(o))
		if s == "" {
			continue
		}
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[:i]
		}
		if len(s) > 200 {
			s = s[:200]
		}
		return strings.TrimSpace(s)
	}
	return "no output"
}
