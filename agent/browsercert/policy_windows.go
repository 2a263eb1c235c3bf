//go:build windows

package browsercert

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

// RegistryPolicies writes the Chromium-family AutoSelectCertificateForUrls
// entry under HKLM (WindowsPolicyKeys). Firefox on Windows reads the
// certificate from the Windows store (security.osclientcerts.autoload);
// its automatic selection is set by Group Policy (docs/identity.md).
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
	return nil
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
	return errors.Join(errs...)
}

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
