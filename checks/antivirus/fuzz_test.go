package antivirus

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/internal/checktest"
)

// The targets below feed what a tool printed, or a file an agent or a
// user wrote, to each parser. For any input the parser must not panic and
// must return only values its callers can rely on; the seeds are the
// recorded samples.

// epoch is the earliest time a parser may return: every source counts
// from 1970 or later, so an earlier time is a decoding error.
var epoch = time.Unix(0, 0)

// collectEval collects h and evaluates its facts at now with the default
// thresholds.
func collectEval(t *testing.T, h host.Host, now time.Time) checks.Result {
	t.Helper()
	return checktest.CollectEval(t, h, Collect, Evaluate, checks.EvalInput{Thresholds: DefaultThresholds(), CollectedAt: now, Now: now})
}

func FuzzParseCVDHeader(f *testing.F) {
	checktest.AddSeeds(f, "linux", "head__")
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseCVDHeader(b)
		if err != nil {
			return
		}
		if h.Built.IsZero() {
			t.Fatal("a header without a build time")
		}
		// Only the 512-byte header is read: what follows cannot matter.
		if h2, err := parseCVDHeader(append(bytes.Clone(b), "trailing signature data"...)); len(b) >= cvdHeaderSize && (err != nil || h2 != h) {
			t.Fatalf("bytes after the header changed it: %+v, %v", h2, err)
		}
	})
}

func FuzzCollectClamAV(f *testing.F) {
	checktest.AddSeeds(f, "linux", "head__")
	now := clamBuilt.Add(5 * time.Hour)
	f.Fuzz(func(t *testing.T, b []byte) {
		h := clamHost(t, "clamonacc_active").AddRun(headArgv(dailyCVD), host.Output{Stdout: b}, nil)
		r := collectEval(t, h, now)
		checktest.CheckResult(t, r)
		// The database's modification time (2 h after the real header's
		// build time) is the fallback, so an unreadable header may pass;
		// a readable one must be judged by its own build time.
		if hdr, err := parseCVDHeader(b); err == nil && now.Sub(hdr.Built) > 24*time.Hour && r.Status == checks.StatusPass {
			t.Fatalf("definitions built %s pass at %s: %s", hdr.Built, now, r.Summary)
		}
	})
}

func FuzzParseMDATPHealth(f *testing.F) {
	checktest.AddSeeds(f, "linux", "mdatp")
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseMDATPHealth(b)
		if err != nil {
			return
		}
		if h.DefinitionsAgeMin != nil && *h.DefinitionsAgeMin < 0 {
			t.Fatalf("negative age %d", *h.DefinitionsAgeMin)
		}
		if h.DefinitionsUpdated != nil && !h.DefinitionsUpdated.After(epoch) {
			t.Fatalf("definitions updated %s", h.DefinitionsUpdated)
		}
		for _, s := range h.HealthIssues {
			if s == "" {
				t.Fatal("an empty health issue")
			}
		}
	})
}

func FuzzCollectMDATP(f *testing.F) {
	checktest.AddSeeds(f, "linux", "mdatp")
	now := date("2024-06-27T12:00:00Z")
	f.Fuzz(func(t *testing.T, b []byte) {
		h := host.NewFake("linux", "amd64").
			AddStat("/usr/bin/mdatp", stat("mdatp", now), nil).
			AddRun(mdatpLinuxArgv, host.Output{Stdout: b}, nil)
		r := collectEval(t, h, now)
		checktest.CheckResult(t, r)
		if _, err := parseMDATPHealth(b); err != nil && r.Status == checks.StatusPass {
			t.Fatalf("unreadable health output passes: %s", r.Summary)
		}
	})
}

func FuzzParseSystemctlAndKeyValues(f *testing.F) {
	checktest.AddSeeds(f, "linux", "systemctl__")
	checktest.AddSeeds(f, "linux", "falconctl__")
	checktest.AddSeeds(f, "linux", "crontab__")
	f.Fuzz(func(t *testing.T, b []byte) {
		if m := parseIsActive(b, clamUnits); m != nil && len(m) != len(clamUnits) {
			t.Fatalf("%d states for %d units", len(m), len(clamUnits))
		}
		for k, v := range parseKeyValues(b) {
			if k == "" || v == "" || k != strings.ToLower(k) {
				t.Fatalf("entry %q=%q", k, v)
			}
		}
		_ = mentionsScanner(b)
	})
}

func FuzzParseSophosXML(f *testing.F) {
	checktest.AddSeeds(f, "linux", "sophos-")
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseSAVStatus(b)
		u, err := parseALCStatus(b)
		if err != nil {
			return
		}
		if u.State == "" {
			t.Fatal("no error and no state")
		}
		for _, tm := range []*time.Time{u.LastGood, u.FailedSince} {
			if tm != nil && tm.Location() != time.UTC {
				t.Fatalf("time %s not in UTC", tm)
			}
		}
	})
}

func FuzzParseDarwinPlists(f *testing.F) {
	checktest.AddSeeds(f, "darwin", "")
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = bundleVersion(b)
		for _, parse := range []func([]byte) (installEntry, bool, error){parseInstallHistory, parseSPInstallHistory} {
			e, found, err := parse(b)
			if err != nil || !found {
				continue
			}
			if e.Date.IsZero() || e.Date.Location() != time.UTC {
				t.Fatalf("entry %+v without a UTC date", e)
			}
		}
		if p, err := parseSoftwareUpdatePrefs(b); err == nil {
			_ = p.merge(p).autoInstallsXProtect()
		}
		_, _ = parseSophosSAVPlist(b)
		if tm, err := parseSophosAutoUpdatePlist(b); err == nil && tm != nil && !tm.After(epoch) {
			t.Fatalf("last update %s", tm)
		}
	})
}

func FuzzDecodeProductState(f *testing.F) {
	for _, ps := range []int64{0x061100, 0x051000, 0x041000, 0x060100, 0x062000, 0x393000, -1} {
		f.Add(ps)
	}
	f.Fuzz(func(t *testing.T, ps int64) {
		s := decodeProductState(ps)
		switch s.Scanner {
		case "on", "off", "snoozed", "expired", "unknown":
		default:
			t.Fatalf("scanner %q", s.Scanner)
		}
		if s.String() == "" {
			t.Fatal("no description")
		}
	})
}

func FuzzFileTime(f *testing.F) {
	f.Add([]byte{0x00, 0x80, 0x3e, 0xd5, 0xde, 0xb1, 0x9d, 0x01})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		if tm, ok := fileTime(b); ok && !tm.After(epoch) {
			t.Fatalf("FILETIME %x is %s", b, tm)
		}
	})
}

func FuzzCollectWindowsWMI(f *testing.F) {
	checktest.AddSeeds(f, "windows", "wmi-mpcomputerstatus__")
	checktest.AddSeeds(f, "windows", "wmi-antivirusproduct__")
	now := date("2024-06-27T12:00:00Z")
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, ok := decodeRows(b)
		if !ok {
			return
		}
		for _, h := range []*host.Fake{
			host.NewFake("windows", "amd64").AddWMI(defenderNS, defenderQuery, rows, nil),
			host.NewFake("windows", "amd64").AddWMI(securityCenterNS, securityCenterQ, rows, nil),
		} {
			checktest.CheckResult(t, collectEval(t, h, now))
		}
	})
}

// decodeRows decodes PowerShell's ConvertTo-Json as the live host does:
// an object is one row, an array several, numbers exact.
func decodeRows(b []byte) ([]map[string]any, bool) {
	b = bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if len(b) > 0 && b[0] == '{' {
		var row map[string]any
		if dec.Decode(&row) != nil {
			return nil, false
		}
		return []map[string]any{row}, true
	}
	var rows []map[string]any
	if dec.Decode(&rows) != nil {
		return nil, false
	}
	return rows, true
}
