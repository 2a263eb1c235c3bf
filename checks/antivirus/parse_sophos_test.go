package antivirus

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

func TestParseSAVStatus(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    *bool
		wantErr bool
	}{
		{"on-access true", checktest.Testdata(t, "linux/sophos-sav-status__on_access_true_handwritten.txt"), ptr(true), false},
		{"on-access false", checktest.Testdata(t, "linux/sophos-sav-status__on_access_false_handwritten.txt"), ptr(false), false},
		{"an older plugin's status without the element says nothing",
			[]byte(`<?xml version="1.0" encoding="utf-8"?><status xmlns="http://www.sophos.com/EE/EESavStatus"><upToDateState>1</upToDateState></status>`), nil, false},
		{"a word that is not a boolean is an error",
			[]byte(`<status xmlns="http://www.sophos.com/EE/EESavStatus"><on-access>maybe</on-access></status>`), nil, true},
		{"a truncated file is an error", []byte(`<status xmlns="http://www.sophos.com/EE/EESavStatus"><on-acc`), nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseSAVStatus(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, want error %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseALCStatus(t *testing.T) {
	good := date("2024-06-27T09:14:31Z")
	failed := date("2024-06-21T08:00:12Z")
	tests := []struct {
		name string
		file string
		want sophosUpdate
	}{
		{"a good install state has the last good time", "linux/sophos-alc-status__good_handwritten.txt", sophosUpdate{State: "good", LastGood: &good}},
		{"a bad install state has the time it began failing", "linux/sophos-alc-status__bad_handwritten.txt", sophosUpdate{State: "bad", FailedSince: &failed}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseALCStatus(checktest.Testdata(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("a status without an install state is an error", func(t *testing.T) {
		if _, err := parseALCStatus([]byte(`<status><autoUpdate/></status>`)); err == nil {
			t.Error("no error")
		}
	})
}

func TestParseSophosMacPlists(t *testing.T) {
	released := date("2024-06-26T00:00:00Z")
	got, err := parseSophosSAVPlist(checktest.Testdata(t, "darwin/sophos-sav-plist__onaccess_0_handwritten.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sophosMacSAV{OnAccess: ptr(false), DataReleased: &released}, got); diff != "" {
		t.Errorf("com.sophos.sav.plist (-want +got):\n%s", diff)
	}
	want := time.Date(2024, 6, 27, 9, 14, 31, 0, time.UTC)
	if got, err := parseSophosAutoUpdatePlist(checktest.Testdata(t, "darwin/sophos-autoupdate-plist__handwritten.txt")); err != nil || got == nil || !got.Equal(want) {
		t.Errorf("LastTimeStamp: got %v, %v, want %s", got, err, want)
	}
}

func TestParseMDATPHealthText(t *testing.T) {
	tr, fa := true, false
	upd := time.UnixMilli(1583323429305).UTC()
	fortySeven := int64(47)
	tests := []struct {
		name string
		file string
		want mdatpHealth
	}{
		{"camelCase lines of a licensed 2020 build, the author's '...' skipped", "linux/mdatp-health-text__licensed_issue6154.txt", mdatpHealth{
			Healthy: &tr, Licensed: &tr, RealTime: &tr, DefinitionsUpdated: &upd, DefinitionsAgeMin: &fortySeven, DefinitionsVersion: "79932",
		}},
		{"snake_case lines after a licence notice, 'unavailable' left out", "linux/mdatp-health-text__unlicensed_issue3.txt", mdatpHealth{
			Healthy: &fa, Licensed: &fa, RealTime: &fa, AppVersion: "101.02.55",
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
		})
	}
	t.Run("an error message is neither JSON nor lines", func(t *testing.T) {
		if _, err := parseMDATPHealth([]byte("Failed to connect to the daemon\n")); err == nil {
			t.Error("no error")
		}
	})
}

func TestParseKeyValuesDropsFalconctlPunctuation(t *testing.T) {
	for _, in := range []string{"rfm-state=false.\n", "rfm-state=false,", `cid="abc", aid="def", version=7.29.18202.0` + "\nrfm-state=false,"} {
		if got := parseKeyValues([]byte(in))["rfm-state"]; got != "false" {
			t.Errorf("%q: rfm-state = %q, want false", in, got)
		}
	}
}

func ptr[T any](v T) *T { return &v }
