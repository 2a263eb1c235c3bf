package ospatched

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Windows Update's Security Updates category ID (not localized, unlike
// its name). Critical Updates (e6cf1350-c01b-414d-a61f-263d14d133b4) are
// by Microsoft's definition fixes of critical non-security bugs (KB
// 824684), so they are not counted, no more than drivers, definition
// updates or previews.
const categorySecurity = "0fa1201d-4330-4fa8-8ae9-b877473b6441"

// wuaReport is what wuaScript prints.
type wuaReport struct {
	LastSearchSuccess  string `json:"LastSearchSuccess"`
	LastInstallSuccess string `json:"LastInstallSuccess"`
	Updates            []struct {
		Title      string   `json:"Title"`
		KB         string   `json:"KB"`
		Severity   string   `json:"Severity"`
		Released   string   `json:"Released"`
		Categories []string `json:"Categories"`
	} `json:"Updates"`
}

// parseWUA reads the report; security updates are those in the Security
// Updates category or with an MSRC severity.
func parseWUA(b []byte) (rep wuaReport, security []Update, total int, err error) {
	if err := json.Unmarshal(decodeText(b), &rep); err != nil {
		return rep, nil, 0, fmt.Errorf("decode the Windows Update report: %w", err)
	}
	for _, u := range rep.Updates {
		sec := u.Severity != ""
		for _, c := range u.Categories {
			c = strings.ToLower(strings.Trim(c, "{}"))
			sec = sec || c == categorySecurity
		}
		if !sec {
			continue
		}
		up := Update{Name: u.Title, Severity: u.Severity}
		if u.KB != "" {
			up.Version = "KB" + u.KB
		}
		if t, ok := parseWUADate(u.Released); ok {
			up.Released = &t
		}
		security = append(security, up)
	}
	return rep, security, len(rep.Updates), nil
}

// parseWUADate reads the script's yyyy-MM-ddTHH:mm:ssZ dates (Windows
// Update keeps them in UTC); the zero date means never.
func parseWUADate(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
	if err != nil || t.Year() < 1990 {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// parseInstalledOn reads Win32_QuickFixEngineering.InstalledOn, a string
// whose form varies: "3/12/2024" (M/d/yyyy, the usual form whatever the
// display language), "20240312", ISO dates, "12.03.2024" (d.M.yyyy), or
// on some systems a hexadecimal FILETIME such as "01d4f0b5d5c0d2a0".
func parseInstalledOn(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if len(s) == 16 {
		if ft, err := strconv.ParseUint(s, 16, 64); err == nil {
			// FILETIME: 100 ns ticks since 1601-01-01.
			const epochDiff = 116444736000000000
			if ft > epochDiff {
				// Seconds and remainder apart: nanoseconds since 1970
				// overflow int64 after 2262.
				d := ft - epochDiff
				return time.Unix(int64(d/1e7), int64(d%1e7)*100).UTC(), true
			}
		}
	}
	for _, layout := range []string{"1/2/2006", "20060102", "2006-01-02", "2.1.2006", "2006/01/02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	if i := strings.IndexByte(s, ' '); i > 0 {
		return parseInstalledOn(s[:i])
	}
	return time.Time{}, false
}
