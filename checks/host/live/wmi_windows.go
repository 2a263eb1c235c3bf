//go:build windows

package live

import (
	"context"
	"fmt"
	"os"
)

// WMI runs a WQL query through Windows PowerShell's Get-CimInstance. This
// needs no cgo or COM bindings and PowerShell 5.1 ships with every
// supported Windows; the cost is a process start per query.
func (h Host) WMI(ctx context.Context, namespace, query string) ([]map[string]any, error) {
	root := os.Getenv("SystemRoot")
	if root == "" {
		root = `C:\Windows`
	}
	ps := root + `\System32\WindowsPowerShell\v1.0\powershell.exe`
	out, err := h.Run(ctx, ps, "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-EncodedCommand", encodeCommand(wmiScript(namespace, query)))
	if err != nil {
		return nil, fmt.Errorf("wmi query in %s: %w", namespace, err)
	}
	if out.ExitCode != 0 {
		return nil, wmiError(namespace, out.ExitCode, out.Stderr)
	}
	rows, err := parseWMIOutput(out.Stdout)
	if err != nil {
		return nil, fmt.Errorf("wmi query in %s: %w", namespace, err)
	}
	return rows, nil
}
