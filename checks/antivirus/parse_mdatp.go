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
	i := bytes.IndexByte(b, '{')
	if i < 0 {
		// Builds without --output json print "key : value" lines.
		raw, err := parseMDATPText(b)
		if err != nil {
			return mdatpHealth{}, err
		}
		return mdatpFromMap(raw), nil
	}
	dec := json.NewDecoder(bytes.NewReader(b[i:]))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return mdatpHealth{}, fmt.Errorf("decode mdatp health: %w", err)
	}
	return mdatpFromMap(raw), nil
}

// parseMDATPText reads the human-readable `mdatp health` of builds that
// ignore --output json: "name<spaces>: value" lines, strings quoted,
// booleans and numbers bare, "unavailable" for a missing value. Lines
// without " : " (notices such as "ATTENTION: ...") are skipped.
func parseMDATPText(b []byte) (map[string]any, error) {
	raw := map[string]any{}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(strings.TrimRight(line, "\r"), " : ")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			continue
		}
		switch {
		case v == "true" || v == "false":
			raw[k] = v == "true"
		case len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"':
			raw[k] = v[1 : len(v)-1]
		case v == "unavailable" || v == "":
		default:
			if _, err := strconv.ParseFloat(v, 64); err == nil {
				raw[k] = json.Number(v)
			} else {
				raw[k] = v
			}
		}
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("decode mdatp health: no JSON document and no \"name : value\" lines: %s", firstLine(b))
	}
	return raw, nil
}

func mdatpFromMap(raw map[string]any) mdatpHealth {
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
	return h
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
