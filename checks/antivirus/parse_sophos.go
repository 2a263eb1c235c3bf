package antivirus

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/postern-dev/postern/checks/internal/plistval"
)

// parseSAVStatus reads the on-access state from Sophos Protection for
// Linux's anti-virus status, /opt/sophos-spl/base/mcs/status/SAV_status.xml
// (`<status xmlns="http://www.sophos.com/EE/EESavStatus">`). The AV plugin
// writes `<on-access>true|false</on-access>` from the state of its
// on-access daemon. Its `<upToDateState>` is not read: the plugin writes
// a constant 1 there, so it says nothing about the definitions.
func parseSAVStatus(b []byte) (*bool, error) {
	var doc struct {
		XMLName  xml.Name `xml:"status"`
		OnAccess *string  `xml:"on-access"`
	}
	if err := decodeXML(b, &doc); err != nil {
		return nil, fmt.Errorf("decode SAV_status.xml: %w", err)
	}
	if doc.OnAccess == nil {
		return nil, nil
	}
	v, err := strconv.ParseBool(strings.TrimSpace(*doc.OnAccess))
	if err != nil {
		return nil, fmt.Errorf("SAV_status.xml on-access is %q", *doc.OnAccess)
	}
	return &v, nil
}

// sophosUpdate is the install state of Sophos's last update run, from
// /opt/sophos-spl/base/mcs/status/ALC_status.xml: "good" with the time of
// the last good install, or "bad" with the time updates started failing.
type sophosUpdate struct {
	State       string
	LastGood    *time.Time
	FailedSince *time.Time
}

// parseALCStatus reads the update scheduler's status. Times are UTC ISO
// 8601 with milliseconds ("2024-06-27T09:14:31.000Z").
func parseALCStatus(b []byte) (sophosUpdate, error) {
	var doc struct {
		XMLName    xml.Name `xml:"status"`
		AutoUpdate struct {
			Install struct {
				State       string `xml:"state"`
				LastGood    string `xml:"lastGood"`
				FailedSince string `xml:"failedSince"`
			} `xml:"installState"`
		} `xml:"autoUpdate"`
	}
	if err := decodeXML(b, &doc); err != nil {
		return sophosUpdate{}, fmt.Errorf("decode ALC_status.xml: %w", err)
	}
	in := doc.AutoUpdate.Install
	u := sophosUpdate{State: strings.ToLower(strings.TrimSpace(in.State))}
	if u.State == "" {
		return u, fmt.Errorf("ALC_status.xml has no installState")
	}
	var err error
	if u.LastGood, err = optionalTime(in.LastGood); err != nil {
		return u, fmt.Errorf("ALC_status.xml lastGood: %w", err)
	}
	if u.FailedSince, err = optionalTime(in.FailedSince); err != nil {
		return u, fmt.Errorf("ALC_status.xml failedSince: %w", err)
	}
	return u, nil
}

func optionalTime(s string) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, err
	}
	t = t.UTC()
	return &t, nil
}

func decodeXML(b []byte, v any) error {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	dec := xml.NewDecoder(bytes.NewReader(b))
	// The files declare encoding="utf-8"; accept the label without a
	// charset reader.
	dec.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		if strings.EqualFold(label, "utf-8") || strings.EqualFold(label, "utf8") {
			return r, nil
		}
		return nil, fmt.Errorf("unsupported encoding %q", label)
	}
	return dec.Decode(v)
}

// sophosMacSAV is what Sophos Endpoint's /Library/Preferences/
// com.sophos.sav.plist on macOS says: OnAccessRunning (0 or 1) and, under
// SAVIVersion, DataReleaseDate, the release day of the virus data it uses
// ("27.06.24", day.month.year).
type sophosMacSAV struct {
	OnAccess     *bool
	DataReleased *time.Time
}

func parseSophosSAVPlist(b []byte) (sophosMacSAV, error) {
	var prefs map[string]any
	var s sophosMacSAV
	if _, err := plistval.Unmarshal(b, &prefs); err != nil {
		return s, fmt.Errorf("decode com.sophos.sav.plist: %w", err)
	}
	switch v := prefs["OnAccessRunning"].(type) {
	case nil:
	case bool:
		s.OnAccess = &v
	default:
		n, ok := plistNumber(v)
		if !ok {
			return s, fmt.Errorf("com.sophos.sav.plist OnAccessRunning is %v", v)
		}
		on := n != 0
		s.OnAccess = &on
	}
	if ver, ok := prefs["SAVIVersion"].(map[string]any); ok {
		if d, ok := ver["DataReleaseDate"].(string); ok {
			// Day precision: the start of that day in UTC, which can only
			// make the data look older than it is.
			if t, err := time.Parse("02.01.06", strings.TrimSpace(d)); err == nil {
				s.DataReleased = &t
			}
		}
	}
	return s, nil
}

// parseSophosAutoUpdatePlist reads LastTimeStamp (seconds since 1970) of
// Sophos AutoUpdate's last update from
// /Library/Caches/com.sophos.sau/sophosautoupdate.plist on macOS.
func parseSophosAutoUpdatePlist(b []byte) (*time.Time, error) {
	var prefs map[string]any
	if _, err := plistval.Unmarshal(b, &prefs); err != nil {
		return nil, fmt.Errorf("decode sophosautoupdate.plist: %w", err)
	}
	v, ok := prefs["LastTimeStamp"]
	if !ok {
		return nil, nil
	}
	n, ok := plistNumber(v)
	if !ok || n <= 0 {
		return nil, fmt.Errorf("sophosautoupdate.plist LastTimeStamp is %v", v)
	}
	t := time.Unix(int64(n), 0).UTC()
	return &t, nil
}

func plistNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, !math.IsNaN(x)
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	return 0, false
}
