//go:build !windows

package live

import (
	"context"
	"fmt"

	"github.com/postern-dev/postern/checks/host"
)

// Registry answers host.ErrNotSupported: only Windows has a registry.
func (Host) Registry(key, name string) (host.RegistryValue, error) {
	return host.RegistryValue{}, fmt.Errorf("read registry %s: %w", key, host.ErrNotSupported)
}

// WMI answers host.ErrNotSupported: only Windows has WMI.
func (Host) WMI(_ context.Context, namespace, _ string) ([]map[string]any, error) {
	return nil, fmt.Errorf("wmi query in %s: %w", namespace, host.ErrNotSupported)
}
