package ospatched

import (
	"strings"
	"time"

	"github.com/postern-dev/postern/checks/internal/textlines"
)

// parseDnfSecurity reads `dnf updateinfo list --security`. dnf 4 prints
// "ADVISORY SEVERITY/Sec. PACKAGE"; dnf 5 prints a header "Name Type
// Severity Package Issued" and rows with the issue date. Every row is a
// pending security update of one package.
func parseDnfSecurity(b []byte) []Update {
	var out []Update
	for line := range textlines.Each(b) {
		f := strings.Fields(line)
		switch {
		case len(f) >= 6 && f[1] == "security":
			// dnf5: Name Type Severity Package Issued(date time)
			u := Update{Name: f[3], Origin: f[0], Severity: f[2]}
			if t, err := time.Parse(time.DateTime, f[4]+" "+f[5]); err == nil {
				u.Released = &t
			}
			out = append(out, u)
		case len(f) == 3 && (strings.HasSuffix(f[1], "/Sec.") || f[1] == "security"):
			out = append(out, Update{Name: f[2], Origin: f[0], Severity: strings.TrimSuffix(f[1], "/Sec.")})
		}
	}
	return out
}
