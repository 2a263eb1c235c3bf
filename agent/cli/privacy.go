package cli

import (
	"fmt"

	"github.com/postern-dev/postern/agent/bundle"
	"github.com/spf13/cobra"
)

// PrivacyNote is what `privacy` prints, and the README's "What Postern
// collects" section says the same. Its bundle paragraph is made from the
// same lists as the bundle's redaction (bundle.Summary), so the two cannot
// drift apart.
var PrivacyNote = `What Postern collects

Postern reads this device's security settings and sends them to your
organisation's Postern server, so that the health-record gateway can decide
whether this device may open IBHIS:

  - the device: host name, operating system, version and architecture
  - sign-in: whether accounts need a password, automatic sign-in, and the
    password rules (length, complexity, age, history, lockout) — never a
    password or its hash
  - firewall: on or off, and whether it filters incoming connections
  - updates: OS release, automatic updates, pending security updates
  - antivirus: which product, whether scanning is on, definitions' age
  - screen lock: idle time before locking, password on wake
  - Wi-Fi: the security type of the network in use (e.g. WPA2) and
    whether a VPN carries the traffic — not the network's name
  - disk encryption: whether system and data volumes are encrypted

It does not collect files or their contents, documents, e-mail, browsing
history, keystrokes, screenshots, location, or the names of networks. It
checks again every few minutes and when the network changes.

` + bundle.Summary()

// NewCmdPrivacy returns `privacy`.
func NewCmdPrivacy(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "privacy",
		Short: "Say what Postern collects from this device, and what it never collects",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprint(f.Out, PrivacyNote)
			return err
		},
	}
}
