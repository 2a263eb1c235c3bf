//go:build windows

package browsercert

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/windows/registry"
)

// RegistryPolicies writes the Chromium-family AutoSelectCertificateForUrls
// entry under HKLM (WindowsPolicyKeys) and Firefox's Preferences policy
// under FirefoxRegistryKey (automatic selection, and certificates from
// the Windows store: security.osclientcerts.autoload). Compiled only: the
// registry plans are unit-tested on Linux.
type RegistryPolicies struct{}

func osPolicies() Policies { return RegistryPolicies{} }

// Write adds or replaces Postern's entry in each browser's list.
func (RegistryPolicies) Write(_ context.Context, gatewayURL, issuerCN string) error {
	entry, err := AutoSelectEntry(gatewayURL, issuerCN)
	if err != nil {
		return err
	}
	for _, path := range WindowsPolicyKeys {
		k, _, err := registry.CreateKey(registry.LOCAL_MACHINE, path, registry.QUERY_VALUE|registry.SET_VALUE)
		if err != nil {
			return fmt.Errorf("open HKLM\\%s: %w", path, err)
		}
		values, err := readValues(k)
		if err == nil {
			err = k.SetStringValue(PlanRegistryList(values), entry)
		}
		k.Close()
		if err != nil {
			return fmt.Errorf("write HKLM\\%s: %w", path, err)
		}
	}
	return writeFirefoxRegistry(false)
}

// Remove deletes Postern's entries, keeping the administrator's.
func (RegistryPolicies) Remove(context.Context) error {
	var errs []error
	for _, path := range WindowsPolicyKeys {
		k, err := registry.OpenKey(registry.LOCAL_MACHINE, path, registry.QUERY_VALUE|registry.SET_VALUE)
		if errors.Is(err, registry.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("open HKLM\\%s: %w", path, err))
			continue
		}
		values, err := readValues(k)
		for _, name := range PosternRegistryEntries(values) {
			if err == nil {
				err = k.DeleteValue(name)
			}
		}
		k.Close()
		if err != nil {
			errs = append(errs, fmt.Errorf("clean HKLM\\%s: %w", path, err))
		}
	}
	if err := writeFirefoxRegistry(true); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// writeFirefoxRegistry sets (or, with remove, takes out) Postern's
// preferences in Firefox's Preferences policy, in the form the
// administrator already uses: the older subkey of one value per
// preference when it exists, else the JSON value.
func writeFirefoxRegistry(remove bool) error {
	access := uint32(registry.QUERY_VALUE | registry.SET_VALUE)
	var k registry.Key
	var err error
	if remove {
		k, err = registry.OpenKey(registry.LOCAL_MACHINE, FirefoxRegistryKey, access)
		if errors.Is(err, registry.ErrNotExist) {
			return nil
		}
	} else {
		k, _, err = registry.CreateKey(registry.LOCAL_MACHINE, FirefoxRegistryKey, access)
	}
	if err != nil {
		return fmt.Errorf("open HKLM\\%s: %w", FirefoxRegistryKey, err)
	}
	defer k.Close()
	if old, err := registry.OpenKey(k, "Preferences", access); err == nil {
		defer old.Close()
		for name, v := range FirefoxDeprecatedValues("windows") {
			switch {
			case remove:
				err = old.DeleteValue(name)
				if errors.Is(err, registry.ErrNotExist) {
					err = nil
				}
			case isString(v):
				err = old.SetStringValue(name, v.(string))
			default:
				err = old.SetDWordValue(name, v.(uint32))
			}
			if err != nil {
				return fmt.Errorf("firefox preference %s in HKLM\\%s\\Preferences: %w", name, FirefoxRegistryKey, err)
			}
		}
		return nil
	}
	existing, multi := "", false
	if s, _, err := k.GetStringValue("Preferences"); err == nil {
		existing = s
	} else if ss, _, err := k.GetStringsValue("Preferences"); err == nil {
		existing, multi = strings.Join(ss, "\n"), true
	}
	var next string
	if remove {
		next, err = RemoveFirefoxPreferencesJSON(existing, "windows")
	} else {
		next, err = MergeFirefoxPreferencesJSON(existing, "windows")
	}
	switch {
	case err != nil:
		return fmt.Errorf("HKLM\\%s Preferences: %w", FirefoxRegistryKey, err)
	case next == "" && existing != "":
		err = k.DeleteValue("Preferences")
	case next == "":
	case multi:
		err = k.SetStringsValue("Preferences", []string{next})
	default:
		err = k.SetStringValue("Preferences", next)
	}
	if err != nil {
		return fmt.Errorf("write HKLM\\%s Preferences: %w", FirefoxRegistryKey, err)
	}
	return nil
}

func isString(v any) bool { _, ok := v.(string); return ok }

func readValues(k registry.Key) (map[string]string, error) {
	names, err := k.ReadValueNames(0)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(names))
	for _, n := range names {
		if s, _, err := k.GetStringValue(n); err == nil {
			out[n] = s
		}
	}
	return out, nil
}
