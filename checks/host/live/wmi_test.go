package live

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks/host"
)

func TestParseWMIOutput(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []map[string]any
	}{
		{"no rows print nothing", "\r\n", []map[string]any{}},
		{"one row is an object", `{"displayName":"Windows Defender","productState":397568}` + "\r\n",
			[]map[string]any{{"displayName": "Windows Defender", "productState": json.Number("397568")}}},
		{"several rows are an array", "\xef\xbb\xbf[{\"a\":1},{\"a\":2}]",
			[]map[string]any{{"a": json.Number("1")}, {"a": json.Number("2")}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseWMIOutput([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("garbage is an error", func(t *testing.T) {
		if _, err := parseWMIOutput([]byte("Get-CimInstance : oops")); err == nil {
			t.Error("no error")
		}
	})
}

func TestEncodeCommandIsUTF16Base64(t *testing.T) {
	script := wmiScript(`root\SecurityCenter2`, "SELECT * FROM AntiVirusProduct WHERE displayName='O''Brien'")
	b, err := base64.StdEncoding.DecodeString(encodeCommand(script))
	if err != nil {
		t.Fatal(err)
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	if got := string(utf16.Decode(u)); got != script {
		t.Errorf("decoded %q, want %q", got, script)
	}
}

func TestWMIErrorClassifies(t *testing.T) {
	tests := []struct {
		name   string
		stderr string
		want   error
	}{
		{"a missing namespace is not found", "Get-CimInstance : Invalid namespace \r\nAt line:1 char:1", host.ErrNotFound},
		{"access denied is a permission error", "Get-CimInstance : Access denied \r\n", host.ErrPermission},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := wmiError(`root\SecurityCenter2`, 1, []byte(tc.stderr)); !errors.Is(err, tc.want) {
				t.Errorf("error %v is not %v", err, tc.want)
			}
		})
	}
}
