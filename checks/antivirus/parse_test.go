package antivirus

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

func TestParseCVDHeader(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		want    cvdHeader
		wantErr error
	}{
		{"a signed daily.cvd header gives its build seconds", "linux/head__daily_cvd_2017.txt",
			cvdHeader{Built: date("2017-03-07T13:02:26Z"), Version: 23182, Signatures: 1741572}, nil},
		{"a daily.cld header with X for the signature parses", "linux/head__daily_cld_handwritten.txt",
			cvdHeader{Built: date("2017-03-07T19:10:00Z"), Version: 23185, Signatures: 1741610}, nil},
		{"without build seconds the human build time is read", "linux/head__main_cvd_no_seconds_handwritten.txt",
			cvdHeader{Built: date("2017-02-16T18:36:00Z"), Version: 58, Signatures: 4566249}, nil},
		{"a gzip stream is not a database", "linux/head__not_a_database.txt", cvdHeader{}, errNotCVD},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseCVDHeader(checktest.Testdata(t, tc.file))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error = %v, want %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseCIMTime(t *testing.T) {
	want := date("2024-06-27T06:00:00Z")
	tests := []struct{ name, in string }{
		{"Windows PowerShell 5.1 writes /Date(ms)/", "/Date(1719468000000)/"},
		{"an offset suffix does not shift the UTC milliseconds", "/Date(1719468000000+0200)/"},
		{"PowerShell 7 writes ISO 8601 with the local offset", "2024-06-27T08:00:00+02:00"},
		{"raw WMI writes DMTF with minutes east of UTC", "20240627080000.000000+120"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseCIMTime(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(want) {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
	t.Run("a date wrapped in PowerShell's DateTime object is unwrapped", func(t *testing.T) {
		row := map[string]any{"d": map[string]any{"value": "/Date(1719468000000)/", "DisplayHint": json.Number("2"), "DateTime": "Thursday, 27 June 2024 08:00:00"}}
		if got, ok := wmiTime(row, "d"); !ok || !got.Equal(want) {
			t.Errorf("got %s %v, want %s", got, ok, want)
		}
	})
	t.Run("a localized date string is refused rather than guessed", func(t *testing.T) {
		if _, err := parseCIMTime("27.06.2024 08:00:00"); err == nil {
			t.Error("no error")
		}
	})
}

func TestDecodeProductState(t *testing.T) {
	tests := []struct {
		name string
		in   int64
		want wscState
	}{
		{"397568 is Defender on and up to date", 397568, wscState{Raw: 397568, Scanner: "on", Microsoft: true, UpToDate: true}},
		{"393472 is Defender off", 393472, wscState{Raw: 393472, Scanner: "off", Microsoft: true, UpToDate: true}},
		{"266240 is a third-party product on and up to date", 266240, wscState{Raw: 266240, Scanner: "on", UpToDate: true}},
		{"266256 is a third-party product with old definitions", 266256, wscState{Raw: 266256, Scanner: "on"}},
		{"270336 is snoozed", 270336, wscState{Raw: 270336, Scanner: "snoozed", UpToDate: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, decodeProductState(tc.in)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseMDATPHealth(t *testing.T) {
	tr, fa := true, false
	upd := date("2024-06-27T09:20:00Z")
	thirty := int64(30)
	ninetyFive := int64(95)
	tests := []struct {
		name string
		file string
		want mdatpHealth
	}{
		{"camelCase keys with value wrappers", "linux/mdatp__healthy_handwritten.txt", mdatpHealth{
			Healthy: &tr, Licensed: &tr, RealTime: &tr, Passive: &fa, DefinitionsUpdated: &upd, DefinitionsAgeMin: &ninetyFive,
			DefinitionsVersion: "1.413.257.0", DefinitionsStatus: "upToDate", TamperProtection: "block", AppVersion: "101.24052.0002",
		}},
		{"snake_case keys after an ATTENTION line", "linux/mdatp__snake_case_handwritten.txt", mdatpHealth{
			Healthy: &tr, Licensed: &tr, RealTime: &tr, Passive: &fa, DefinitionsAgeMin: &thirty,
			DefinitionsVersion: "1.399.110.0", DefinitionsStatus: "up_to_date",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseMDATPHealth(checktest.Testdata(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if u := got.upToDate(); u == nil || !*u {
				t.Errorf("upToDate = %v, want true", u)
			}
		})
	}
	t.Run("an error text is not health", func(t *testing.T) {
		if _, err := parseMDATPHealth(checktest.Testdata(t, "linux/mdatp__daemon_down_stderr.txt")); err == nil {
			t.Error("no error")
		}
	})
}

func TestParseIsActive(t *testing.T) {
	units := clamUnits
	t.Run("one state per unit maps in order", func(t *testing.T) {
		got := parseIsActive(checktest.Testdata(t, "linux/systemctl__clamonacc_active.txt"), units)
		want := map[string]string{"clamav-freshclam.service": "active", "clamav-daemon.service": "active", "clamav-clamonacc.service": "active", "clamd@scan.service": "inactive", "clamonacc.service": "inactive"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("a machine without systemd gives no states", func(t *testing.T) {
		if got := parseIsActive(checktest.Testdata(t, "linux/systemctl__no_systemd_stderr.txt"), units); got != nil {
			t.Errorf("got %v", got)
		}
	})
}

func TestParseKeyValues(t *testing.T) {
	tests := []struct {
		name, in string
		want     map[string]string
	}{
		{"falconctl's key=value ends with a period", "rfm-state=false.\n", map[string]string{"rfm-state": "false"}},
		{"several falconctl values are comma-separated", "aid=0123abcd, rfm-state=true.\r\n", map[string]string{"aid": "0123abcd", "rfm-state": "true"}},
		{"indented key: value lines with CRLF", "agent_info:\r\n  version: 7.10.17806.0\r\n  Sensor operational: true\r\n", map[string]string{"version": "7.10.17806.0", "sensor operational": "true"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, parseKeyValues([]byte(tc.in))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseXProtectHistory(t *testing.T) {
	want := installEntry{Name: "XProtectPlistConfigData", Version: "2193", Date: date("2024-06-26T18:05:44Z")}
	t.Run("the install history plist's newest XProtect entry", func(t *testing.T) {
		got, ok, err := parseInstallHistory(checktest.Testdata(t, "darwin/installhistory-plist__xprotect_handwritten.txt"))
		if err != nil || !ok {
			t.Fatalf("ok %v, err %v", ok, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("system_profiler's newest XProtect entry", func(t *testing.T) {
		got, ok, err := parseSPInstallHistory(checktest.Testdata(t, "darwin/system_profiler__installhistory_handwritten.txt"))
		if err != nil || !ok {
			t.Fatalf("ok %v, err %v", ok, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("the bundle version", func(t *testing.T) {
		if v, err := bundleVersion(checktest.Testdata(t, "darwin/xprotect-info-plist__2193_handwritten.txt")); err != nil || v != "2193" {
			t.Errorf("got %q, %v", v, err)
		}
	})
}

func TestFileTime(t *testing.T) {
	want := time.Date(2024, 6, 27, 6, 0, 0, 0, time.UTC)
	if got, ok := fileTime(filetimeBytes(want)); !ok || !got.Equal(want) {
		t.Errorf("got %s %v, want %s", got, ok, want)
	}
	if _, ok := fileTime([]byte{1, 2, 3}); ok {
		t.Error("a short value decoded")
	}
}
