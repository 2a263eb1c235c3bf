package ossupported

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
	"github.com/postern-dev/postern/checks/osdata"
)

// regQueryValues reads the values listed under key in a recorded
// `reg query <key>` output, typed as the registry API returns them, so a
// capture printed by reg.exe can stand in for the live registry. Subkey
// lines and values of other keys are skipped.
func regQueryValues(t *testing.T, out []byte, key string) map[string]host.RegistryValue {
	t.Helper()
	want := strings.Replace(key, `HKLM\`, `HKEY_LOCAL_MACHINE\`, 1)
	vals := map[string]host.RegistryValue{}
	inKey := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, "    ") {
			inKey = strings.EqualFold(line, want)
			continue
		}
		if !inKey {
			continue
		}
		parts := strings.SplitN(line[4:], "    ", 3)
		if len(parts) < 2 {
			t.Fatalf("reg query line %q has no type", line)
		}
		name, typ, data := parts[0], parts[1], ""
		if len(parts) == 3 {
			data = parts[2]
		}
		v := host.RegistryValue{Type: typ}
		switch typ {
		case "REG_DWORD", "REG_QWORD":
			n, err := strconv.ParseUint(strings.TrimPrefix(data, "0x"), 16, 64)
			if err != nil {
				t.Fatalf("reg query value %s %q: %v", name, data, err)
			}
			v.Integer = n
		case "REG_MULTI_SZ":
			v.Strings = strings.Split(data, `\0`)
		case "REG_BINARY":
			continue // not read by any collector here
		default:
			v.String = data
		}
		vals[name] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(vals) == 0 {
		t.Fatalf("no values of %s in the capture", key)
	}
	return vals
}

// windowsFromCapture is a Windows fake whose CurrentVersion key holds the
// values of a real `reg query` capture.
func windowsFromCapture(t *testing.T, name string) *host.Fake {
	t.Helper()
	h := host.NewFake("windows", "amd64")
	for n, v := range regQueryValues(t, checktest.Testdata(t, "windows", name), osdata.WindowsCurrentVersion) {
		h.AddRegistry(osdata.WindowsCurrentVersion, n, v, nil)
	}
	return h
}

func TestRegQueryValuesTypesTheCapture(t *testing.T) {
	vals := regQueryValues(t, checktest.Testdata(t, "windows", "reg-query-currentversion__win11_25h2_pro.txt"), osdata.WindowsCurrentVersion)
	for name, want := range map[string]host.RegistryValue{
		"CurrentBuildNumber":     {Type: "REG_SZ", String: "26200"},
		"UBR":                    {Type: "REG_DWORD", Integer: 6901},
		"EditionSubManufacturer": {Type: "REG_SZ"},
		"InstallTime":            {Type: "REG_QWORD", Integer: 0x1db3f55ede0095a},
	} {
		if got := vals[name]; got.Type != want.Type || got.String != want.String || got.Integer != want.Integer {
			t.Errorf("%s = %+v, want %+v", name, got, want)
		}
	}
	if _, ok := vals["Accessibility"]; ok {
		t.Error("a subkey line was read as a value")
	}
}
