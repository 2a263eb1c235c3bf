package ospatched

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/osdata"
)

// Windows sources.
const (
	qfeQuery   = "SELECT HotFixID, InstalledOn FROM Win32_QuickFixEngineering"
	wuaTimeout = 5 * time.Minute
	wuaTTL     = 6 * time.Hour
	// maxHotfixes bounds the rows read.
	maxHotfixes = 2000
)

// wuaScript asks the Windows Update Agent for the updates not installed,
// searching its local cache of the last scan (Online = false: fast, no
// network), and for the last successful scan and install. Category IDs
// are printed, not their localized names.
const wuaScript = `$ErrorActionPreference='Stop'
[Console]::OutputEncoding=[System.Text.Encoding]::UTF8
function D($d){ if($d -eq $null){''} else {([datetime]$d).ToString('yyyy-MM-ddTHH:mm:ssZ',[Globalization.CultureInfo]::InvariantCulture)} }
$au=(New-Object -ComObject Microsoft.Update.AutoUpdate).Results
$s=(New-Object -ComObject Microsoft.Update.Session).CreateUpdateSearcher()
$s.Online=$false
$r=$s.Search("IsInstalled=0 and IsHidden=0 and Type='Software'")
$u=@($r.Updates | ForEach-Object { [pscustomobject]@{Title=$_.Title;KB=(@($_.KBArticleIDs) -join ',');Severity=[string]$_.MsrcSeverity;Released=(D $_.LastDeploymentChangeTime);Categories=@($_.Categories | ForEach-Object { $_.CategoryID })} })
[pscustomobject]@{LastSearchSuccess=(D $au.LastSearchSuccessDate);LastInstallSuccess=(D $au.LastInstallationSuccessDate);Updates=$u} | ConvertTo-Json -Depth 4 -Compress`

func collectWindows(ctx context.Context, h host.Host) (*Facts, error) {
	id, err := osdata.ReadIdentity(ctx, h)
	if err != nil {
		return nil, err
	}
	f := &Facts{OS: id}
	f.LastPatch = lastHotfix(ctx, h, f)
	p, err := shared.get(ctx, h, wuaSearch(h))
	if err != nil {
		f.PendingError = err.Error()
		return f, nil
	}
	f.Pending = p
	if p.LastSearch != nil {
		f.LastRefresh = &Stamp{At: *p.LastSearch, Source: "Windows Update last successful search"}
	}
	if p.LastInstall != nil && (f.LastPatch == nil || p.LastInstall.After(f.LastPatch.At)) {
		f.LastPatch = &Stamp{At: *p.LastInstall, Source: "Windows Update last successful installation"}
	}
	return f, nil
}

func lastHotfix(ctx context.Context, h host.Host, f *Facts) *Stamp {
	ctx, cancel := context.WithTimeout(ctx, 2*host.DefaultCommandTimeout)
	defer cancel()
	rows, err := h.WMI(ctx, `root\cimv2`, qfeQuery)
	if err != nil {
		f.Notes = append(f.Notes, "read installed hotfixes: "+err.Error())
		return nil
	}
	if len(rows) > maxHotfixes {
		rows = rows[:maxHotfixes]
	}
	var best time.Time
	var kb string
	for _, r := range rows {
		s, _ := r["InstalledOn"].(string)
		if t, ok := parseInstalledOn(s); ok && t.After(best) {
			best = t
			kb, _ = r["HotFixID"].(string)
		}
	}
	if best.IsZero() {
		f.Notes = append(f.Notes, fmt.Sprintf("none of the %d hotfixes has a readable install date", len(rows)))
		return nil
	}
	return &Stamp{At: best, Source: "Win32_QuickFixEngineering " + kb}
}

// powershell is Windows PowerShell under the system root read from the
// registry, the path the rest of the agent uses.
func powershell(h host.Host) string {
	root, err := osdata.RegString(h, osdata.WindowsCurrentVersion, "SystemRoot")
	if err != nil || root == "" {
		root = `C:\Windows`
	}
	return strings.TrimRight(root, `\`) + `\System32\WindowsPowerShell\v1.0\powershell.exe`
}

// wuaSearch runs the Windows Update Agent query.
func wuaSearch(h host.Host) search {
	ps := powershell(h)
	return search{name: "windows-update", ttl: wuaTTL, timeout: wuaTimeout, run: func(ctx context.Context) (*Pending, error) {
		out, err := h.Run(ctx, ps, "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-EncodedCommand", psEncoded(wuaScript))
		if err != nil || out.ExitCode != 0 {
			return nil, toolError("Windows Update Agent search", host.Output{Stderr: decodeText(out.Stderr), ExitCode: out.ExitCode}, err)
		}
		rep, sec, total, err := parseWUA(out.Stdout)
		if err != nil {
			return nil, err
		}
		p := newPending(h, "Windows Update Agent (cached scan results)", total, sec)
		p.Security = len(sec)
		if t, ok := parseWUADate(rep.LastSearchSuccess); ok {
			p.LastSearch = &t
		}
		if t, ok := parseWUADate(rep.LastInstallSuccess); ok {
			p.LastInstall = &t
		}
		return p, nil
	}}
}
