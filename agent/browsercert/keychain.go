package browsercert

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/postern-dev/postern/agent/allowcmd"
	"github.com/postern-dev/postern/checks/consoleuser"
)

// Keychain places the identity in the macOS user's login keychain, with
// a non-extractable key, and sets an identity preference for the
// gateway's URL, which Safari and Chrome use to pick the certificate.
// Commands run in the user's session (launchctl asuser), where the login
// keychain is unlocked. Compiled and unit-tested on Linux only.
type Keychain struct {
	Run allowcmd.Runner
	// TempDir holds the short-lived PKCS#12 folder; os.TempDir() when
	// empty.
	TempDir string
}

var _ Store = Keychain{}

// LoginKeychain is the login keychain's path under the user's home.
const LoginKeychain = "Library/Keychains/login.keychain-db"

// KeychainCommands returns the security(1) command lines that import
// p12File (protected by password) into u's login keychain and prefer the
// identity for the gateway. Each runs as launchctl asuser UID security
// ...; applications allowed to use the key without a prompt are Safari,
// Chrome and Edge (-T).
func KeychainCommands(u consoleuser.User, id Identity, p12File, password string) ([][]string, error) {
	if err := checkMacUser(u); err != nil {
		return nil, err
	}
	kc := filepath.Join(u.Home, LoginKeychain)
	import_ := []string{"import", p12File, "-k", kc, "-f", "pkcs12", "-P", password, "-x"}
	for _, app := range []string{"/Applications/Safari.app", "/Applications/Google Chrome.app", "/Applications/Microsoft Edge.app"} {
		import_ = append(import_, "-T", app)
	}
	cmds := [][]string{import_}
	if id.GatewayURL != "" {
		pattern, err := Pattern(id.GatewayURL)
		if err != nil {
			return nil, err
		}
		cmds = append(cmds, []string{"set-identity-preference", "-c", id.DeviceID, "-s", pattern + "/", kc})
	}
	return asUser(u, cmds), nil
}

// KeychainRemoveCommands returns the command lines that delete the
// device's identity (certificate and key) from u's login keychain and
// clear the identity preference.
func KeychainRemoveCommands(u consoleuser.User, deviceID, gatewayURL string) ([][]string, error) {
	if err := checkMacUser(u); err != nil {
		return nil, err
	}
	kc := filepath.Join(u.Home, LoginKeychain)
	cmds := [][]string{{"delete-identity", "-c", deviceID, kc}}
	if pattern, err := Pattern(gatewayURL); err == nil {
		cmds = append(cmds, []string{"set-identity-preference", "-n", "-s", pattern + "/", kc})
	}
	return asUser(u, cmds), nil
}

func asUser(u consoleuser.User, cmds [][]string) [][]string {
	security, _ := allowcmd.Path("darwin", allowcmd.Security)
	out := make([][]string, len(cmds))
	for i, c := range cmds {
		out[i] = append([]string{"asuser", u.ID, security}, c...)
	}
	return out
}

func checkMacUser(u consoleuser.User) error {
	if err := checkUser(u); err != nil {
		return err
	}
	if u.ID == "0" || strings.Trim(u.ID, "0123456789") != "" {
		return fmt.Errorf("console user id %q: want a non-root uid", u.ID)
	}
	return nil
}

// Place imports the identity; the PKCS#12 file lives, readable by root
// only (launchctl asuser keeps root's uid), for the import alone.
func (k Keychain) Place(ctx context.Context, u consoleuser.User, id Identity) error {
	if err := id.Validate(); err != nil {
		return err
	}
	p12, password, err := exportPKCS12(id)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp(k.TempDir, "postern-cert-")
	if err != nil {
		return fmt.Errorf("hand over the certificate: %w", err)
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "device.p12")
	if err := os.WriteFile(file, p12, 0o600); err != nil {
		return fmt.Errorf("hand over the certificate: %w", err)
	}
	cmds, err := KeychainCommands(u, id, file, password)
	if err != nil {
		return err
	}
	// An older certificate of the device (before a renewal) goes first.
	if rm, err := KeychainRemoveCommands(u, id.DeviceID, ""); err == nil {
		_, _ = k.Run.Run(ctx, allowcmd.Launchctl, rm[0]...)
	}
	for _, c := range cmds {
		if _, err := k.Run.Run(ctx, allowcmd.Launchctl, c...); err != nil {
			return fmt.Errorf("keychain %s: %w", c[3], err)
		}
	}
	return nil
}

// Remove deletes the identity; one that is not there is not an error.
func (k Keychain) Remove(ctx context.Context, u consoleuser.User, deviceID string) error {
	cmds, err := KeychainRemoveCommands(u, deviceID, "")
	if err != nil {
		return err
	}
	for _, c := range cmds {
		_, _ = k.Run.Run(ctx, allowcmd.Launchctl, c...)
	}
	return nil
}
