package antivirus

import (
	"fmt"
	"strings"

	"github.com/postern-dev/postern/checks/host"
)

// wscEntry is one AntiVirusProduct row of Security Center.
type wscEntry struct {
	name, productExe, reportingExe, timestamp string
	state                                     wscState
	hasState                                  bool
}

func readWSCEntry(row map[string]any) wscEntry {
	var e wscEntry
	e.name, _ = wmiString(row, "displayName")
	e.productExe, _ = wmiString(row, "pathToSignedProductExe")
	e.reportingExe, _ = wmiString(row, "pathToSignedReportingExe")
	e.timestamp, _ = wmiString(row, "timestamp")
	if ps, ok := wmiInt(row, "productState"); ok {
		e.state, e.hasState = decodeProductState(ps), true
	}
	if e.timestamp == "" {
		e.timestamp = "an unreported time"
	}
	return e
}

// wscProduct turns a third-party Security Center entry into a product.
// The entry is what the product last told Security Center, so its
// executable is checked on disk: an uninstalled product leaves a stale
// entry behind.
func wscProduct(h host.Host, e wscEntry) Product {
	name := e.name
	if name == "" {
		name = "unnamed Security Center product"
	}
	p := Product{Kind: KindWSC, Name: name, FoundBy: securityCenterNS + " AntiVirusProduct", Caveat: fmt.Sprintf(staleSecCenterMsg, e.timestamp)}
	if !e.hasState {
		p.Unreadable = "Security Center reports no productState"
		return p
	}
	src := sourceSecCenter + " " + e.state.String()
	on := e.state.Scanner == "on"
	p.Running, p.RealTime, p.UpToDate = flag(on, src), flag(on, src), flag(e.state.UpToDate, src)
	if exe := firstNonEmpty(e.productExe, e.reportingExe); exe != "" {
		path := expandWindowsPath(h, exe)
		if ok, err := exists(h, path); err == nil && !ok {
			p.Running = flag(false, "its program "+path+" is missing: the Security Center entry is stale")
		}
	}
	return p
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// expandWindowsPath resolves the environment variables Security Center
// paths use, reading their values from the registry (the agent's own
// environment is not the recorded machine's).
func expandWindowsPath(h host.Host, p string) string {
	vars := map[string]string{
		"%programfiles%":      regString(h, programFilesKey, "ProgramFilesDir", `C:\Program Files`),
		"%programfiles(x86)%": regString(h, programFilesKey, "ProgramFilesDir (x86)", `C:\Program Files (x86)`),
		"%programw6432%":      regString(h, programFilesKey, "ProgramW6432Dir", `C:\Program Files`),
		"%systemroot%":        regString(h, `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`, "SystemRoot", `C:\Windows`),
	}
	vars["%windir%"] = vars["%systemroot%"]
	low := strings.ToLower(p)
	for k, v := range vars {
		if strings.HasPrefix(low, k) {
			return v + p[len(k):]
		}
	}
	return p
}

func regString(h host.Host, key, name, def string) string {
	if v, err := h.Registry(key, name); err == nil && v.String != "" {
		return v.String
	}
	return def
}
