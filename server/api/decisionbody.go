package api

import (
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/postern-dev/postern/internal/jsonenc"
	"github.com/postern-dev/postern/server/decision"
)

// The decision API's answer is encoded once per device and decision: the
// part of a decision that only the device's posture, the policy and its
// exceptions change (allow, device, key, reasons, warnings) is kept
// encoded per device, and a request whose decision has that same part
// reuses the bytes and appends only the three time fields (posture age,
// evaluated_at, valid_until), which change with every request. The cache
// is checked against each request's decision, made from memory by the
// engine, so a changed posture, policy or exception changes the decision
// and with it the bytes: nothing has to remember to invalidate it, on this
// replica or another.
//
// The bytes are exactly jsonenc.Marshal's, as writeJSON sends (<, > and &
// kept); a test holds the two together.

// maxBodies bounds the cache; past it the cache starts afresh, which only
// happens past the fleet's size.
const maxBodies = 100_000

// bodyCache maps a device ID to its cached encoding.
type bodyCache struct {
	mu sync.RWMutex
	m  map[string]*cachedBody
}

// cachedBody is a decision's lasting part and its encoding, up to and
// including the comma before "posture_age_seconds".
type cachedBody struct {
	allow             bool
	deviceID, user    string
	key               string
	reasons, warnings []decision.Reason
	// nilReasons: nil encodes as null, an empty slice as [].
	nilReasons bool
	prefix     []byte
}

func (c *cachedBody) matches(d *decision.Decision) bool {
	return c.allow == d.Allow && c.deviceID == d.DeviceID && c.user == d.User && c.key == d.Key &&
		(d.Reasons == nil) == c.nilReasons && slices.Equal(c.reasons, d.Reasons) && slices.Equal(c.warnings, d.Warnings)
}

// encode returns d as jsonenc.Marshal would, with a newline, reusing the
// cached encoding of d's lasting part when it is d's.
func (bc *bodyCache) encode(d *decision.Decision) ([]byte, error) {
	var c *cachedBody
	if d.DeviceID != "" {
		bc.mu.RLock()
		c = bc.m[d.DeviceID]
		bc.mu.RUnlock()
	}
	if c == nil || !c.matches(d) {
		prefix, err := encodePrefix(d)
		if err != nil {
			return nil, err
		}
		c = &cachedBody{allow: d.Allow, deviceID: d.DeviceID, user: d.User, key: d.Key, reasons: slices.Clone(d.Reasons),
			warnings: slices.Clone(d.Warnings), prefix: prefix, nilReasons: d.Reasons == nil}
		if d.DeviceID != "" {
			bc.mu.Lock()
			if bc.m == nil || len(bc.m) >= maxBodies {
				bc.m = make(map[string]*cachedBody)
			}
			bc.m[d.DeviceID] = c
			bc.mu.Unlock()
		}
	}
	b := make([]byte, 0, len(c.prefix)+128)
	b = append(b, c.prefix...)
	b = append(b, `"posture_age_seconds":`...)
	b = strconv.AppendInt(b, d.PostureAgeSeconds, 10)
	var err error
	if b, err = appendTime(append(b, `,"evaluated_at":`...), d.EvaluatedAt); err != nil {
		return nil, err
	}
	if b, err = appendTime(append(b, `,"valid_until":`...), d.ValidUntil); err != nil {
		return nil, err
	}
	return append(b, "}\n"...), nil
}

// lasting is the leading fields of decision.Decision, with its tags.
type lasting struct {
	Allow    bool              `json:"allow"`
	DeviceID string            `json:"device_id"`
	User     string            `json:"user,omitempty"`
	Key      string            `json:"key,omitempty"`
	Reasons  []decision.Reason `json:"reasons"`
	Warnings []decision.Reason `json:"warnings,omitempty"`
}

// encodePrefix encodes d's lasting part as the opening of its object,
// ending with the comma that the time fields follow.
func encodePrefix(d *decision.Decision) ([]byte, error) {
	b, err := jsonenc.Marshal(lasting{Allow: d.Allow, DeviceID: d.DeviceID, User: d.User, Key: d.Key, Reasons: d.Reasons, Warnings: d.Warnings})
	if err != nil {
		return nil, err
	}
	b[len(b)-1] = ','
	return b, nil
}

// appendTime appends t as time.Time's MarshalJSON does (RFC 3339 with
// nanoseconds, quoted), without its allocation.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	b, err := t.AppendText(append(b, '"'))
	if err != nil {
		return nil, err
	}
	return append(b, '"'), nil
}

// writeDecision writes d with status 200 in one call with its
// Content-Length.
func (a *api) writeDecision(w http.ResponseWriter, d *decision.Decision) {
	b, err := a.bodies.encode(d)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "the answer could not be encoded"})
		return
	}
	h := w.Header()
	h["Content-Type"] = applicationJSON
	h["Cache-Control"] = noStore
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}
