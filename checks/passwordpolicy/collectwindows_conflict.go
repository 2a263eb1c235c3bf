package passwordpolicy

import (
	"errors"
	"fmt"

	"github.com/postern-dev/postern/checks/host"
)

// controlPolicyConflictKey holds Policy CSP ControlPolicyConflict, whose
// MDMWinsOverGP = 1 makes a Policy CSP value an MDM set win over the
// Group Policy setting it is equivalent to (Microsoft Learn, "Policy CSP -
// ControlPolicyConflict"). Its default, 0 or absent, leaves Group Policy
// in charge.
const (
	controlPolicyConflictKey = `HKLM\SOFTWARE\Microsoft\PolicyManager\current\device\ControlPolicyConflict`
	mdmWinsOverGPName        = "MDMWinsOverGP"
)

// gpPrecedence says who wins when domain Group Policy and the MDM both set
// a sub-rule.
type gpPrecedence struct {
	// mdmWins is true when MDMWinsOverGP is 1.
	mdmWins bool
	// unknown is why the switch could not be read; the winner of a
	// conflict is then undetermined.
	unknown string
}

// readGPPrecedence reads MDMWinsOverGP. A missing value is Windows'
// default (Group Policy wins); any other failure leaves the precedence
// unknown, which matters only where Group Policy and the MDM disagree.
func readGPPrecedence(h host.Host, f *Facts) gpPrecedence {
	v, err := h.Registry(controlPolicyConflictKey, mdmWinsOverGPName)
	switch {
	case errors.Is(err, host.ErrNotFound), errors.Is(err, host.ErrNotSupported):
		f.Notes = append(f.Notes, fmt.Sprintf(`%s\%s is not set, so domain Group Policy wins over the MDM (Windows' default)`, controlPolicyConflictKey, mdmWinsOverGPName))
		return gpPrecedence{}
	case err != nil:
		return gpPrecedence{unknown: fmt.Sprintf(`%s\%s could not be read: %v`, controlPolicyConflictKey, mdmWinsOverGPName, err)}
	}
	n, ok := regNumber(v)
	if !ok || n > 1 {
		return gpPrecedence{unknown: fmt.Sprintf(`%s\%s has the unexpected %s value %s`, controlPolicyConflictKey, mdmWinsOverGPName, v.Type, regShow(v))}
	}
	f.Sources = append(f.Sources, fmt.Sprintf(`registry %s\%s=%d`, controlPolicyConflictKey, mdmWinsOverGPName, n))
	return gpPrecedence{mdmWins: n == 1}
}

// resolve decides a sub-rule both domain Group Policy (gp, from RSOP key
// gpKey) and the MDM (mdm) set, noting the decision in f.
func (p gpPrecedence) resolve(f *Facts, gpKey string, gp, mdm Setting) Setting {
	switch {
	case p.mdmWins:
		f.Notes = append(f.Notes, fmt.Sprintf("the MDM's %s wins over domain Group Policy %s (MDMWinsOverGP=1)", mdm.Source, gpKey))
		return mdm
	case p.unknown == "":
		f.Notes = append(f.Notes, fmt.Sprintf("domain Group Policy %s wins over the MDM's %s", gpKey, mdm.Source))
		return gp
	case gp.Unknown == "" && mdm.Unknown == "" && gp.Value == mdm.Value:
		f.Notes = append(f.Notes, fmt.Sprintf("domain Group Policy %s and the MDM's %s agree", gpKey, mdm.Source))
		return gp
	}
	return unknown(fmt.Sprintf("domain Group Policy %s sets %d and the MDM's %s sets %d, and which wins is unknown: %s",
		gpKey, gp.Value, mdm.Source, mdm.Value, p.unknown))
}

// regShow renders a registry value for a message.
func regShow(v host.RegistryValue) string {
	switch v.Type {
	case "REG_DWORD", "REG_QWORD":
		return fmt.Sprint(v.Integer)
	}
	return fmt.Sprintf("%q", v.String)
}
