package browsercert

import (
	"strconv"
	"strings"
)

// WindowsPolicyKeys are the HKLM keys under which Chrome, Edge and
// Chromium read the AutoSelectCertificateForUrls list on Windows: one
// REG_SZ value per entry, named "1", "2", ...
var WindowsPolicyKeys = []string{
	`SOFTWARE\Policies\Google\Chrome\AutoSelectCertificateForUrls`,
	`SOFTWARE\Policies\Microsoft\Edge\AutoSelectCertificateForUrls`,
	`SOFTWARE\Policies\Chromium\AutoSelectCertificateForUrls`,
}

// PlanRegistryList returns the value name Postern's entry goes under in
// a list key holding values (name -> data): the name of an earlier
// Postern entry (it is replaced), else the first free number, so that an
// administrator's own entries are kept. Postern's entries are those
// whose data names issuerCN's device CA prefix.
func PlanRegistryList(values map[string]string) string {
	for name, data := range values {
		if isPosternEntry(data) {
			return name
		}
	}
	for i := 1; ; i++ {
		if _, used := values[strconv.Itoa(i)]; !used {
			return strconv.Itoa(i)
		}
	}
}

// PosternRegistryEntries returns the names of Postern's entries in a
// list key, for removal.
func PosternRegistryEntries(values map[string]string) []string {
	var out []string
	for name, data := range values {
		if isPosternEntry(data) {
			out = append(out, name)
		}
	}
	return out
}

// isPosternEntry recognises an entry AutoSelectEntry made: its issuer
// filter names Postern's device CA ("Postern device CA <host>").
func isPosternEntry(data string) bool {
	return strings.Contains(data, `"ISSUER":{"CN":"Postern device CA`)
}
