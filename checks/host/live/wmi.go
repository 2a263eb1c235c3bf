package live

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf16"

	"github.com/postern-dev/postern/checks/host"
)

// wmiScript is the PowerShell that runs one CIM query and prints its rows
// as compact UTF-8 JSON without the CIM bookkeeping properties.
func wmiScript(namespace, query string) string {
	return "$ErrorActionPreference='Stop';" +
		"[Console]::OutputEncoding=[System.Text.Encoding]::UTF8;" +
		"Get-CimInstance -Namespace " + psQuote(namespace) + " -Query " + psQuote(query) +
		" | Select-Object -Property * -ExcludeProperty CimClass,CimInstanceProperties,CimSystemProperties,PSComputerName" +
		" | ConvertTo-Json -Depth 3 -Compress"
}

// psQuote makes s a PowerShell single-quoted literal, in which only the
// quote itself is special.
func psQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// encodeCommand is PowerShell's -EncodedCommand form: base64 of UTF-16LE,
// which sidesteps every command-line quoting rule.
func encodeCommand(script string) string {
	u := utf16.Encode([]rune(script))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		b[2*i], b[2*i+1] = byte(c), byte(c>>8)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// parseWMIOutput decodes ConvertTo-Json output: nothing for no rows, an
// object for one row, an array for several. Numbers stay exact.
func parseWMIOutput(out []byte) ([]map[string]any, error) {
	out = bytes.TrimPrefix(out, []byte("\xef\xbb\xbf"))
	out = bytes.TrimSpace(out)
	if len(out) == 0 {
		return []map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if out[0] == '{' {
		var row map[string]any
		if err := dec.Decode(&row); err != nil {
			return nil, fmt.Errorf("decode wmi output: %w", err)
		}
		return []map[string]any{row}, nil
	}
	var rows []map[string]any
	if err := dec.Decode(&rows); err != nil {
		return nil, fmt.Errorf("decode wmi output: %w", err)
	}
	return rows, nil
}

// wmiError turns PowerShell's error text into a host sentinel where one
// fits: a namespace or class that does not exist (Security Center on
// Windows Server) is not found; access denied is a permission error.
func wmiError(namespace string, exitCode int, stderr []byte) error {
	msg := strings.TrimSpace(string(stderr))
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = strings.TrimSpace(msg[:i])
	}
	if len(msg) > 300 {
		msg = msg[:300]
	}
	err := fmt.Errorf("wmi query in %s: powershell exited %d: %s", namespace, exitCode, msg)
	low := strings.ToLower(string(stderr))
	switch {
	case strings.Contains(low, "invalid namespace"), strings.Contains(low, "invalid class"):
		return host.Wrap(host.ErrNotFound, err)
	case strings.Contains(low, "access denied"), strings.Contains(low, "access is denied"):
		return host.Wrap(host.ErrPermission, err)
	}
	return err
}
