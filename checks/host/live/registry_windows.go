//go:build windows

package live

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"

	"github.com/postern-dev/postern/checks/host"
)

var registryRoots = map[string]registry.Key{
	"HKLM": registry.LOCAL_MACHINE, "HKEY_LOCAL_MACHINE": registry.LOCAL_MACHINE,
	"HKCU": registry.CURRENT_USER, "HKEY_CURRENT_USER": registry.CURRENT_USER,
	"HKU": registry.USERS, "HKEY_USERS": registry.USERS,
	"HKCR": registry.CLASSES_ROOT, "HKEY_CLASSES_ROOT": registry.CLASSES_ROOT,
}

// Registry reads one value from the 64-bit view of the registry, whatever
// the agent's own architecture, so that policy keys are the ones Windows
// itself reads.
func (Host) Registry(key, name string) (host.RegistryValue, error) {
	rootName, sub, _ := strings.Cut(key, `\`)
	root, ok := registryRoots[strings.ToUpper(rootName)]
	if !ok {
		return host.RegistryValue{}, fmt.Errorf("read registry %s: root must be HKLM, HKCU, HKU or HKCR", key)
	}
	k, err := registry.OpenKey(root, sub, registry.QUERY_VALUE|registry.WOW64_64KEY)
	if err != nil {
		return host.RegistryValue{}, mapRegistryError(fmt.Errorf("open registry key %s: %w", key, err))
	}
	defer k.Close()
	size, typ, err := k.GetValue(name, nil)
	if err != nil {
		return host.RegistryValue{}, mapRegistryError(fmt.Errorf("read registry %s\\%s: %w", key, name, err))
	}
	if size > host.MaxFileSize {
		return host.RegistryValue{}, fmt.Errorf("read registry %s\\%s: %w", key, name, host.ErrTooLarge)
	}
	var v host.RegistryValue
	switch typ {
	case registry.SZ, registry.EXPAND_SZ:
		v.Type = map[uint32]string{registry.SZ: "REG_SZ", registry.EXPAND_SZ: "REG_EXPAND_SZ"}[typ]
		v.String, _, err = k.GetStringValue(name)
	case registry.DWORD, registry.QWORD:
		v.Type = map[uint32]string{registry.DWORD: "REG_DWORD", registry.QWORD: "REG_QWORD"}[typ]
		v.Integer, _, err = k.GetIntegerValue(name)
	case registry.MULTI_SZ:
		v.Type = "REG_MULTI_SZ"
		v.Strings, _, err = k.GetStringsValue(name)
	default:
		v.Type = "REG_BINARY"
		buf := make([]byte, size)
		var n int
		n, _, err = k.GetValue(name, buf)
		v.Binary = buf[:min(n, len(buf))]
	}
	if err != nil {
		return host.RegistryValue{}, mapRegistryError(fmt.Errorf("read registry %s\\%s: %w", key, name, err))
	}
	return v, nil
}

func mapRegistryError(err error) error {
	switch {
	case errors.Is(err, registry.ErrNotExist), errors.Is(err, windows.ERROR_FILE_NOT_FOUND), errors.Is(err, windows.ERROR_PATH_NOT_FOUND):
		return host.Wrap(host.ErrNotFound, err)
	case errors.Is(err, windows.ERROR_ACCESS_DENIED):
		return host.Wrap(host.ErrPermission, err)
	}
	return err
}
