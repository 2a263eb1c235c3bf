package bundle

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/device"
	"github.com/postern-dev/postern/checks/host"
)

// wifiSample reads a recorded Wi-Fi tool output of the wifi_encryption
// check's test data.
func wifiSample(t *testing.T, goos, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "checks", "wifienc", "testdata", goos, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRedactWiFiNames(t *testing.T) {
	ctx := context.Background()
	const netsh = `C:\Windows\System32\netsh.exe`
	tests := []struct {
		name       string
		goos, tool string
		args       []string
		sample     string
		gone, kept []string
	}{
		{"netsh in English loses the SSID, BSSID and profile, keeps the security", "windows", netsh, []string{"wlan", "show", "interfaces"},
			"netsh__wpa2_personal_en.txt", []string{"ExampleHomeNet", "02:00:00:00:01:00"},
			[]string{"    SSID                   : redacted\r\n", "WPA2-Personal\r\n", "Profile                : redacted\r\n"}},
		{"netsh in French UTF-16 keeps its encoding", "windows", netsh, []string{"wlan", "show", "interfaces"},
			"netsh__wep_fr_utf16.txt", nil, []string{"\xff\xfe"}},
		{"system_profiler loses the current and the nearby networks' names", "windows", "/usr/sbin/system_profiler", []string{"-json", "SPAirPortDataType"},
			"system_profiler__open_redacted.txt", []string{"ExampleNeighbourNet"}, []string{`"_name": "redacted"`, "spairport_security_mode"}},
		{"wpa_cli status loses ssid and bssid", "linux", "/usr/sbin/wpa_cli", []string{"-i", "wlan0", "status"},
			"wpa_cli__status_wpa2_psk.txt", []string{"ExampleHomeNet", "02:00:00:00:01:00"}, []string{"ssid=redacted\n", "key_mgmt=WPA2-PSK\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sampleOS := tc.goos
			if tc.tool == "/usr/sbin/system_profiler" {
				sampleOS = "darwin"
			}
			raw := wifiSample(t, sampleOS, tc.sample)
			fake := host.NewFake(tc.goos, "amd64").AddRun(append([]string{tc.tool}, tc.args...), host.Output{Stdout: raw}, nil)
			out, err := Redact(fake).Run(ctx, tc.tool, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.gone {
				if bytes.Contains(out.Stdout, []byte(s)) {
					t.Errorf("%q is still in the output", s)
				}
			}
			for _, s := range tc.kept {
				if !bytes.Contains(out.Stdout, []byte(s)) {
					t.Errorf("%q is missing from the output:\n%s", s, out.Stdout)
				}
			}
		})
	}
	t.Run("netsh in UTF-16 is redacted", func(t *testing.T) {
		raw := wifiSample(t, "windows", "netsh__wep_fr_utf16.txt")
		got := redactNetsh(raw)
		if bytes.Equal(got, raw) {
			t.Error("nothing was redacted")
		}
		if !bytes.Contains(got, utf16le(": redacted\r\n")) {
			t.Errorf("no redacted line in %q", got)
		}
	})
	t.Run("an iwd network path is handed out in stand-in form and mapped back", func(t *testing.T) {
		const busctl = "/usr/bin/busctl"
		real := "/net/connman/iwd/0/3/4578616d706c65436166654775657374_open"
		fake := host.NewFake("linux", "amd64").
			AddRun([]string{busctl, "--json=short", "get-property", "net.connman.iwd", "/net/connman/iwd/0/3", "net.connman.iwd.Station", "ConnectedNetwork"},
				host.Output{Stdout: []byte(`{"type":"o","data":"` + real + `"}` + "\n")}, nil).
			AddRun([]string{busctl, "--json=short", "get-property", "net.connman.iwd", real, "net.connman.iwd.Network", "Type"},
				host.Output{Stdout: []byte(`{"type":"s","data":"open"}` + "\n")}, nil)
		h := Redact(fake)
		out, err := h.Run(ctx, busctl, "--json=short", "get-property", "net.connman.iwd", "/net/connman/iwd/0/3", "net.connman.iwd.Station", "ConnectedNetwork")
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(out.Stdout, []byte("4578616d706c65")) || !bytes.Contains(out.Stdout, []byte("_open")) {
			t.Fatalf("stand-in path = %s", out.Stdout)
		}
		standIn := string(iwdNetworkPath.Find(out.Stdout))
		typ, err := h.Run(ctx, busctl, "--json=short", "get-property", "net.connman.iwd", standIn, "net.connman.iwd.Network", "Type")
		if err != nil || !bytes.Contains(typ.Stdout, []byte("open")) {
			t.Errorf("the stand-in path did not reach the real network: %s, %v", typ.Stdout, err)
		}
	})
}

func utf16le(s string) []byte {
	var out []byte
	for _, r := range s {
		out = append(out, byte(r), byte(r>>8))
	}
	return out
}

// TestRedactionKeepsVerdicts checks every recorded machine of the catalog
// through the redacting host: the verdicts must be those of the original.
func TestRedactionKeepsVerdicts(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "..", "checks", "testdata", "snapshots", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no snapshots: %v", err)
	}
	verdicts := func(h host.Host, at host.SnapshotMeta) map[checks.ControlID]checks.Status {
		ctx := context.Background()
		r := checks.Collect(ctx, h, device.Collect(ctx, h), at.RecordedAt)
		out := map[checks.ControlID]checks.Status{}
		for _, v := range checks.Evaluate(r, checks.DefaultPolicy(), at.RecordedAt) {
			out[v.ID] = v.Status
		}
		return out
	}
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			snap, err := host.OpenSnapshot(dir)
			if err != nil {
				t.Fatal(err)
			}
			want := verdicts(snap, snap.Meta())
			got := verdicts(Redact(snap), snap.Meta())
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("verdicts changed by redaction (-original +redacted):\n%s", diff)
			}
		})
	}
}
