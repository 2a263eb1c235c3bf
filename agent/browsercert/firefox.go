package browsercert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"howett.net/plist"
)

// Firefox's enterprise policies outside Linux's policies.json: the
// Windows registry (Group Policy's place) and the macOS preferences
// domain org.mozilla.firefox. Both carry the same Preferences policy as
// policies.json (firefoxPrefs), merged with whatever the administrator
// set there, and removed without touching it.

// FirefoxRegistryKey is where Firefox reads its policies on Windows
// (HKLM). Its Preferences policy is either the value "Preferences", a
// JSON object of {"pref": {"Value": ..., "Status": ...}}, or, in the
// older form Group Policy's "Preferences (Deprecated)" writes, a subkey
// "Preferences" with one value per preference.
const FirefoxRegistryKey = `SOFTWARE\Policies\Mozilla\Firefox`

// MergeFirefoxPreferencesJSON returns the registry's Preferences value
// (may be empty) with Postern's preferences set and locked, keeping the
// administrator's others.
func MergeFirefoxPreferencesJSON(existing, goos string) (string, error) {
	doc, err := wrapPreferences(existing)
	if err != nil {
		return "", err
	}
	merged, err := MergeFirefoxPolicies(doc, goos)
	if err != nil {
		return "", err
	}
	return unwrapPreferences(merged)
}

// RemoveFirefoxPreferencesJSON takes Postern's preferences out of the
// registry's Preferences value; "" when nothing else is left (the value
// is then deleted).
func RemoveFirefoxPreferencesJSON(existing, goos string) (string, error) {
	doc, err := wrapPreferences(existing)
	if err != nil {
		return "", err
	}
	rest, err := RemoveFirefoxPolicies(doc, goos)
	if err != nil || rest == nil {
		return "", err
	}
	return unwrapPreferences(rest)
}

func wrapPreferences(existing string) ([]byte, error) {
	if len(bytes.TrimSpace([]byte(existing))) == 0 {
		return nil, nil
	}
	var prefs map[string]any
	if err := json.Unmarshal([]byte(existing), &prefs); err != nil {
		return nil, fmt.Errorf("firefox Preferences policy: %w", err)
	}
	return json.Marshal(map[string]any{"policies": map[string]any{"Preferences": prefs}})
}

func unwrapPreferences(doc []byte) (string, error) {
	var d struct {
		Policies struct {
			Preferences map[string]any `json:"Preferences"`
		} `json:"policies"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return "", err
	}
	if len(d.Policies.Preferences) == 0 {
		return "", nil
	}
	b, err := json.Marshal(d.Policies.Preferences)
	return string(b), err
}

// FirefoxDeprecatedValues are Postern's preferences as the older
// registry form holds them (value name -> REG_SZ string or REG_DWORD),
// written there when the administrator uses that form, since Firefox
// reads one form or the other.
func FirefoxDeprecatedValues(goos string) map[string]any {
	out := map[string]any{}
	for k, v := range firefoxPrefs(goos) {
		switch v := v.(type) {
		case bool:
			var d uint32
			if v {
				d = 1
			}
			out[k] = d
		default:
			out[k] = v
		}
	}
	return out
}

// FirefoxPlistFile is the macOS preferences file Firefox reads its
// policies from when EnterprisePoliciesEnabled is set in it (a
// configuration profile's payload org.mozilla.firefox takes precedence).
const FirefoxPlistFile = "/Library/Preferences/org.mozilla.firefox.plist"

// maxPlist bounds the plist read for merging.
const maxPlist = 1 << 20

// MergeFirefoxPlist returns the org.mozilla.firefox preferences (XML or
// binary plist; may be empty) with EnterprisePoliciesEnabled and
// Postern's preferences set and locked, as an XML plist.
func MergeFirefoxPlist(existing []byte) ([]byte, error) {
	doc, err := decodePlist(existing)
	if err != nil {
		return nil, err
	}
	doc["EnterprisePoliciesEnabled"] = true
	prefs, _ := doc["Preferences"].(map[string]any)
	if prefs == nil {
		prefs = map[string]any{}
	}
	for k, v := range firefoxPrefs("darwin") {
		prefs[k] = map[string]any{"Value": v, "Status": "locked"}
	}
	doc["Preferences"] = prefs
	return plist.MarshalIndent(doc, plist.XMLFormat, "\t")
}

// RemoveFirefoxPlist takes Postern's preferences out; nil when nothing
// but EnterprisePoliciesEnabled is left (the file is then removed).
func RemoveFirefoxPlist(existing []byte) ([]byte, error) {
	doc, err := decodePlist(existing)
	if err != nil {
		return nil, err
	}
	if prefs, ok := doc["Preferences"].(map[string]any); ok {
		for k := range firefoxPrefs("darwin") {
			delete(prefs, k)
		}
		if len(prefs) == 0 {
			delete(doc, "Preferences")
		}
	}
	if _, only := doc["EnterprisePoliciesEnabled"]; len(doc) == 0 || (only && len(doc) == 1) {
		return nil, nil
	}
	return plist.MarshalIndent(doc, plist.XMLFormat, "\t")
}

func decodePlist(b []byte) (map[string]any, error) {
	doc := map[string]any{}
	if len(bytes.TrimSpace(b)) == 0 {
		return doc, nil
	}
	if len(b) > maxPlist {
		return nil, fmt.Errorf("%s: larger than %d bytes", FirefoxPlistFile, maxPlist)
	}
	if _, err := plist.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", FirefoxPlistFile, err)
	}
	return doc, nil
}

// PlistPolicies writes Firefox's policy into its macOS preferences file.
// Chrome and Edge on macOS read policies only from configuration
// profiles, so nothing is written for them (docs/identity.md has the
// payload for an MDM).
type PlistPolicies struct {
	// Path is FirefoxPlistFile; tests point it elsewhere.
	Path string
}

// Write merges Postern's preferences into the file.
func (p PlistPolicies) Write(context.Context, string, string) error {
	old, err := readPolicy(p.Path)
	if err != nil {
		return err
	}
	merged, err := MergeFirefoxPlist(old)
	if err != nil {
		return err
	}
	return writePolicy(p.Path, merged)
}

// Remove takes Postern's preferences out of the file, or removes it when
// nothing else is left.
func (p PlistPolicies) Remove(context.Context) error {
	old, err := readPolicy(p.Path)
	if err != nil || old == nil {
		return err
	}
	rest, err := RemoveFirefoxPlist(old)
	switch {
	case err != nil:
		return err
	case rest == nil:
		if err := os.Remove(p.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove firefox policy: %w", err)
		}
		return nil
	default:
		return writePolicy(p.Path, rest)
	}
}
