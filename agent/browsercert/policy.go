package browsercert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/postern-dev/postern/agent/internal/atomicfile"
	pb "github.com/postern-dev/postern/proto"
)

// AutoSelectPolicy is the Chromium-family policy that presents the
// device certificate to the gateway without asking.
const AutoSelectPolicy = "AutoSelectCertificateForUrls"

// Pattern returns the content-settings pattern of the gateway's origin,
// as AutoSelectCertificateForUrls matches it: scheme, host and, when the
// URL names one, port.
func Pattern(gatewayURL string) (string, error) {
	if gatewayURL == "" {
		return "", ErrNoGateway
	}
	if err := pb.ValidateGatewayURL(gatewayURL); err != nil {
		return "", err
	}
	u, _ := url.Parse(gatewayURL)
	return "https://" + u.Host, nil
}

// AutoSelectEntry returns one AutoSelectCertificateForUrls entry: the
// gateway's pattern and a filter on the issuer's common name, so that
// only a certificate from Postern's device CA is ever chosen.
func AutoSelectEntry(gatewayURL, issuerCN string) (string, error) {
	pattern, err := Pattern(gatewayURL)
	if err != nil {
		return "", err
	}
	if issuerCN == "" {
		return "", errors.New("auto-select policy: the issuer's common name is empty")
	}
	type issuer struct {
		CN string `json:"CN"`
	}
	type filter struct {
		Issuer issuer `json:"ISSUER"`
	}
	b, err := json.Marshal(struct {
		Pattern string `json:"pattern"`
		Filter  filter `json:"filter"`
	}{pattern, filter{issuer{issuerCN}}})
	return string(b), err
}

// ChromiumPolicyFile returns the managed-policy JSON file for Chromium,
// Chrome and Edge on Linux (each reads every *.json file of its managed
// folder).
func ChromiumPolicyFile(gatewayURL, issuerCN string) ([]byte, error) {
	entry, err := AutoSelectEntry(gatewayURL, issuerCN)
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(map[string][]string{AutoSelectPolicy: {entry}}, "", "  ")
	return append(b, '\n'), err
}

// firefoxPrefs are the Firefox preferences the policy sets (and locks):
// choose the client certificate without asking; on Windows and macOS also
// read certificates from the OS store, where the device certificate is.
func firefoxPrefs(goos string) map[string]any {
	prefs := map[string]any{"security.default_personal_cert": "Select Automatically"}
	if goos == "windows" || goos == "darwin" {
		prefs["security.osclientcerts.autoload"] = true
	}
	return prefs
}

// maxPoliciesJSON bounds the policies.json read for merging.
const maxPoliciesJSON = 1 << 20

// MergeFirefoxPolicies returns existing policies.json (may be empty)
// with Postern's preferences set and locked, keeping every other policy
// and preference the administrator put there.
func MergeFirefoxPolicies(existing []byte, goos string) ([]byte, error) {
	doc, err := parsePolicies(existing)
	if err != nil {
		return nil, err
	}
	policies := object(doc, "policies")
	prefs := object(policies, "Preferences")
	for k, v := range firefoxPrefs(goos) {
		prefs[k] = map[string]any{"Value": v, "Status": "locked"}
	}
	return encodePolicies(doc)
}

// RemoveFirefoxPolicies takes Postern's preferences out of existing,
// leaving everything else; it returns nil when nothing else is left, so
// the caller removes the file.
func RemoveFirefoxPolicies(existing []byte, goos string) ([]byte, error) {
	doc, err := parsePolicies(existing)
	if err != nil {
		return nil, err
	}
	policies := object(doc, "policies")
	prefs := object(policies, "Preferences")
	for k := range firefoxPrefs(goos) {
		delete(prefs, k)
	}
	if len(prefs) == 0 {
		delete(policies, "Preferences")
	}
	if len(policies) == 0 {
		delete(doc, "policies")
	}
	if len(doc) == 0 {
		return nil, nil
	}
	return encodePolicies(doc)
}

func parsePolicies(b []byte) (map[string]any, error) {
	doc := map[string]any{}
	if len(bytes.TrimSpace(b)) == 0 {
		return doc, nil
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("firefox policies.json: %w", err)
	}
	if doc == nil {
		doc = map[string]any{}
	}
	return doc, nil
}

// object returns m[key] as an object, replacing anything else there.
func object(m map[string]any, key string) map[string]any {
	if o, ok := m[key].(map[string]any); ok {
		return o
	}
	o := map[string]any{}
	m[key] = o
	return o
}

func encodePolicies(doc map[string]any) ([]byte, error) {
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("firefox policies.json: %w", err)
	}
	return append(b, '\n'), nil
}

// LinuxPolicyFiles are where the Linux browsers read managed policies.
var LinuxPolicyFiles = struct {
	Chromium []string
	Firefox  string
}{
	Chromium: []string{
		"/etc/chromium/policies/managed/postern.json",   // Debian's and Ubuntu's Chromium
		"/etc/opt/chrome/policies/managed/postern.json", // Google Chrome
		"/etc/opt/edge/policies/managed/postern.json",   // Microsoft Edge
	},
	Firefox: "/etc/firefox/policies/policies.json",
}

// FilePolicies writes the Linux policy files under Root ("" or "/" for
// the machine; a temporary folder in tests).
type FilePolicies struct {
	Root string
}

func (p FilePolicies) path(abs string) string { return filepath.Join(p.Root, filepath.FromSlash(abs)) }

// Write writes the Chromium-family files and merges the Firefox one.
func (p FilePolicies) Write(_ context.Context, gatewayURL, issuerCN string) error {
	chromium, err := ChromiumPolicyFile(gatewayURL, issuerCN)
	if err != nil {
		return err
	}
	for _, f := range LinuxPolicyFiles.Chromium {
		if err := writePolicy(p.path(f), chromium); err != nil {
			return err
		}
	}
	path := p.path(LinuxPolicyFiles.Firefox)
	old, err := readPolicy(path)
	if err != nil {
		return err
	}
	merged, err := MergeFirefoxPolicies(old, "linux")
	if err != nil {
		return err
	}
	return writePolicy(path, merged)
}

// Remove deletes the Chromium-family files and Postern's part of the
// Firefox one.
func (p FilePolicies) Remove(context.Context) error {
	var errs []error
	for _, f := range LinuxPolicyFiles.Chromium {
		if err := os.Remove(p.path(f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove browser policy: %w", err))
		}
	}
	path := p.path(LinuxPolicyFiles.Firefox)
	old, err := readPolicy(path)
	if err != nil || old == nil {
		return errors.Join(append(errs, err)...)
	}
	rest, err := RemoveFirefoxPolicies(old, "linux")
	switch {
	case err != nil:
		errs = append(errs, err)
	case rest == nil:
		if err := os.Remove(path); err != nil {
			errs = append(errs, fmt.Errorf("remove firefox policy: %w", err))
		}
	default:
		errs = append(errs, writePolicy(path, rest))
	}
	return errors.Join(errs...)
}

func readPolicy(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read browser policy: %w", err)
	}
	defer f.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(io.LimitReader(f, maxPoliciesJSON+1)); err != nil {
		return nil, fmt.Errorf("read browser policy: %w", err)
	}
	if b.Len() > maxPoliciesJSON {
		return nil, fmt.Errorf("read browser policy: %s is larger than %d bytes", path, maxPoliciesJSON)
	}
	return b.Bytes(), nil
}

// writePolicy writes a policy file readable by everyone (browsers run as
// the user) and writable only by root, as the browsers require of
// managed policy.
func writePolicy(path string, b []byte) error {
	if strings.Contains(path, "..") {
		return fmt.Errorf("browser policy path %s", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create browser policy folder: %w", err)
	}
	if err := atomicfile.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write browser policy: %w", err)
	}
	return nil
}
