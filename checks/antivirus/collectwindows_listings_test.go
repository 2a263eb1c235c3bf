package antivirus

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// psListRecords splits PowerShell's Format-List output of several objects
// (records separated by blank lines) into rows of strings, the shape the
// host gives when every value is text. The real Security Center captures
// below were published in list form; the collector reads JSON, and the
// WMI row readers accept numbers written as text.
func psListRecords(b []byte) []map[string]any {
	var rows []map[string]any
	for _, rec := range bytes.Split(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), []byte("\n\n")) {
		if row := psList(rec); len(row) > 0 {
			rows = append(rows, row)
		}
	}
	return rows
}

const bitdefenderExe = `C:\Program Files\Bitdefender\Bitdefender Security\wscfix.exe`

// thmHost answers Security Center with the real Bitdefender + Defender
// listing. Defender's own WMI status was not published with it, so the
// query is left unanswered (not found) and Defender is judged from its
// Security Center row.
func thmHost(t *testing.T) *host.Fake {
	return host.NewFake("windows", "amd64").
		AddWMI(securityCenterNS, securityCenterQ, psListRecords(checktest.Testdata(t, "windows/get-ciminstance-antivirusproduct-list__bitdefender_defender_off_thm.txt")), nil)
}

func TestCollectWindowsRealSecurityCenterListings(t *testing.T) {
	t.Run("a real listing with Bitdefender on and up to date next to Defender off passes on Bitdefender", func(t *testing.T) {
		h := thmHost(t).AddStat(bitdefenderExe, host.FileInfo{Name: "wscfix.exe"}, nil)
		f := check(t, h, winNow, winNow, nil, want{status: checks.StatusPass, summary: []string{"Bitdefender Antivirus", "up to date without a time"}})
		if len(f.Products) != 2 {
			t.Fatalf("products = %+v, want Defender and Bitdefender", f.Products)
		}
		def, bd := f.Products[0], f.Products[1]
		if def.Kind != KindDefender || def.RealTime == nil || def.RealTime.Value || !strings.Contains(def.RealTime.Source, "0x060100: off") {
			t.Errorf("Defender = %+v, want real-time off from Security Center state 0x060100", def)
		}
		if bd.Kind != KindWSC || !strings.Contains(bd.Caveat, "Wed, 15 Dec 2021 12:40:10 GMT") {
			t.Errorf("Bitdefender = %+v, want a Security Center product whose caveat names its timestamp", bd)
		}
	})
	t.Run("the same real listing with Bitdefender's program gone is a stale entry and fails", func(t *testing.T) {
		h := thmHost(t).AddStat(bitdefenderExe, host.FileInfo{}, host.Wrap(host.ErrNotFound, errors.New("GetFileAttributesEx: The system cannot find the path specified.")))
		check(t, h, winNow, winNow, nil, want{status: checks.StatusFail, summary: []string{"Security Center entry is stale"}})
	})

	// A real Windows 10 22H2 Security Center row for Defender (397568:
	// on, definitions up to date) standing in for Defender's own status,
	// which the agent was denied.
	pnpt := func(t *testing.T) *host.Fake {
		return host.NewFake("windows", "amd64").
			AddWMI(securityCenterNS, securityCenterQ, psListRecords(checktest.Testdata(t, "windows/get-ciminstance-antivirusproduct-list__defender_397568_pnpt.txt")), nil).
			AddWMI(defenderNS, defenderQuery, nil, accessDenied(t))
	}
	t.Run("a real Defender Security Center row stands in for a denied MSFT_MpComputerStatus and passes on its up-to-date flag", func(t *testing.T) {
		f := check(t, pnpt(t), winNow, winNow, nil, want{status: checks.StatusPass, summary: []string{"definitions reported up to date without a time"}})
		if p := f.Products[0]; !strings.Contains(p.Caveat, "Mon, 04 Mar 2024 18:28:49 GMT") {
			t.Errorf("caveat = %q, want the row's timestamp", p.Caveat)
		}
	})
	t.Run("the same row is unknown when the policy requires a measured age", func(t *testing.T) {
		th := &Thresholds{MaxDefinitionAge: DefaultThresholds().(*Thresholds).MaxDefinitionAge, AcceptUpToDateFlag: false}
		check(t, pnpt(t), winNow, winNow, th, want{status: checks.StatusUnknown, summary: []string{"requires a measured age"}})
	})
}

// TestDefenderFieldMappingFromThe2024DocsListing maps a real listing of a
// 2024 Defender platform (4.18.24050.7) from Microsoft's documentation:
// AMRunningMode and IsTamperProtected are read, and the localized
// "6/4/2024 8:06:27 AM" is refused for the whole-day AntivirusSignatureAge.
func TestDefenderFieldMappingFromThe2024DocsListing(t *testing.T) {
	p := defenderFromWMI(psList(checktest.Testdata(t, "windows/get-mpcomputerstatus-list__docs_2024.txt")), nil)
	day := int64(24 * 60)
	want := &Product{
		Kind: KindDefender, Name: defenderName, FoundBy: defenderNS + " " + sourceMpStatus,
		Running:         flag(true, "MSFT_MpComputerStatus AMServiceEnabled=true AntivirusEnabled=true"),
		RealTime:        flag(true, "MSFT_MpComputerStatus RealTimeProtectionEnabled"),
		Mode:            &Mode{Name: "Normal", Protecting: true, Source: "MSFT_MpComputerStatus AMRunningMode"},
		Definitions:     &Definitions{AgeMinutes: &day, AgeResolutionMinutes: &day, Version: "1.413.102.0", Source: "MSFT_MpComputerStatus AntivirusSignatureAge (whole days)"},
		TamperProtected: flag(false, "MSFT_MpComputerStatus IsTamperProtected"),
	}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
