package antivirus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// mdatpHealth is what `mdatp health --output json` reports. Microsoft
// Defender for Endpoint writes camelCase keys (older builds snake_case),
// wraps managed settings as {"value": ..., "scope": ...} and enumerations
// as {"$type": ...}; the parser accepts each form.
type mdatpHealth struct {
	Healthy            *bool
	HealthIssues       []string
	Licensed           *bool
	RealTime           *bool
	Passive            *bool
	EnforcementLevel   string
	DefinitionsUpdated *time.Time
	DefinitionsAgeMin  *int64
	DefinitionsVersion string
	DefinitionsStatus  string
	TamperProtection   string
	AppVersion         string
}

func parseMDATPHealth(b []byte) (mdatpHealth, error) {
	b = bytes.TrimPrefix(bytes.TrimSpace(b), []byte("\xef\xbb\xbf"))
	// mdatp may print "ATTENTION: ..." lines before the document.
	if i := bytes.IndexByte(b, '{'); i > 0 {
		b = b[i:]
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return mdatpHealth{}, fmt.Errorf("decode mdatp health: %w", err)
	}
	m := make(map[string]any, len(raw))
	for k, v := range raw {
		m[normKey(k)] = unwrap(v)
	}
	var h mdatpHealth
	h.Healthy = jsonBool(m["healthy"])
	h.Licensed = jsonBool(m["licensed"])
	h.RealTime = jsonBool(m["realtimeprotectionenabled"])
	h.Passive = jsonBool(m["passivemodeenabled"])
	h.EnforcementLevel = jsonString(m["enforcementlevel"])
	h.DefinitionsVersion = jsonString(m["definitionsversion"])
	h.DefinitionsStatus = jsonString(m["definitionsstatus"])
	h.TamperProtection = jsonString(m["tamperprotection"])
	h.AppVersion = jsonString(m["appversion"])
	if arr, ok := m["healthissues"].([]any); ok {
		for _, v := range arr {
			if s := jsonString(unwrap(v)); s != "" {
				h.HealthIssues = append(h.HealthIssues, s)
			}
		}
	}
	h.DefinitionsUpdated = jsonTime(m["definitionsupdated"])
	if n, ok := jsonInt(m["definitionsupdatedminutesago"]); ok && n >= 0 {
		h.DefinitionsAgeMin = &n
	}
	return h, nil
}

func normKey(k string) string { return strings.ToLower(strings.ReplaceAll(k, "_", "")) }

// unwrap takes the value out of {"value": v} and {"$type": v} wrappers.
func unwrap(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	if x, ok := m["value"]; ok {
		return x
	}
	if x, ok := m["$type"]; ok {
		return x
	}
	return v
}

func jsonBool(v any) *bool {
	switch x := v.(type) {
	case bool:
		return &x
	case string:
		if b, err := strconv.ParseBool(x); err == nil {
			return &b
		}
	}
	return nil
}

func jsonString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	}
	return ""
}

func jsonInt(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, true
		}
		if f, err := x.Float64(); err == nil {
			return int64(f), true
		}
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// jsonTime reads an epoch (milliseconds or seconds) or an RFC 3339 time.
func jsonTime(v any) *time.Time {
	if n, ok := jsonInt(v); ok && n > 0 {
		var t time.Time
		if n > 1e11 {
			t = time.UnixMilli(n).UTC()
		} else {
			t = time.Unix(n, 0).UTC()
		}
		return &t
	}
	if s, ok := v.(string); ok {
		if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s)); err == nil {
			t = t.UTC()
			return &t
		}
	}
	return nil
}

// upToDate reads definitionsStatus ("upToDate", "up_to_date", "outdated",
// "updating"...).
func (h mdatpHealth) upToDate() *bool {
	s := normKey(h.DefinitionsStatus)
	if s == "" {
		return nil
	}
	v := s == "uptodate"
	return &v
}
