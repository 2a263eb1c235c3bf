package gateway

import "time"

// DeviceQuery names the device to decide for: exactly one of DeviceID and
// CertSHA256 (lowercase hex SHA-256 of the client certificate's DER, see
// CertSHA256), and optionally the signed-in User, which is denied when the
// device is assigned to someone else.
type DeviceQuery struct {
	DeviceID   string
	CertSHA256 string
	User       string
}

// Reason explains a deny (or, in Warnings, a failing control that does
// not block yet), with a message and a fix for the block page.
type Reason struct {
	Code        string `json:"code"`
	Control     string `json:"control,omitempty"`
	Message     string `json:"message"`
	Remediation string `json:"remediation,omitempty"`
	// Until is, for a warning, when it stops being one (a grace period or
	// an exception ends); zero otherwise.
	Until time.Time `json:"until,omitzero"`
}

// Decision is the server's answer.
type Decision struct {
	Allow             bool      `json:"allow"`
	DeviceID          string    `json:"device_id"`
	User              string    `json:"user,omitempty"`
	Reasons           []Reason  `json:"reasons"`
	Warnings          []Reason  `json:"warnings,omitempty"`
	PostureAgeSeconds int64     `json:"posture_age_seconds"`
	EvaluatedAt       time.Time `json:"evaluated_at"`
	// ValidUntil is when the gateway must ask again at the latest.
	ValidUntil time.Time `json:"valid_until"`
}

// Event types (Event.EventType).
const (
	EventComplianceChange = "https://schemas.openid.net/secevent/caep/event-type/device-compliance-change"
	EventDeviceRevoked    = "urn:postern:event:device-revoked"
	EventPolicyChanged    = "urn:postern:event:policy-changed"
	// EventReset means events were missed: re-check every device the
	// gateway holds sessions for.
	EventReset = "urn:postern:event:reset"
)

// Compliance statuses (Event.CurrentStatus, Event.PreviousStatus).
const (
	StatusCompliant    = "compliant"
	StatusNotCompliant = "not-compliant"
)

// Event is a decision change, shaped after the OpenID CAEP
// device-compliance-change event.
type Event struct {
	ID             string            `json:"id"`
	EventType      string            `json:"event_type"`
	EventTimestamp int64             `json:"event_timestamp"`
	DeviceID       string            `json:"device_id,omitempty"`
	CertSHA256     string            `json:"cert_sha256,omitempty"`
	CurrentStatus  string            `json:"current_status,omitempty"`
	PreviousStatus string            `json:"previous_status,omitempty"`
	ReasonCodes    []string          `json:"reason_codes,omitempty"`
	ReasonAdmin    map[string]string `json:"reason_admin,omitempty"`
	PolicyVersion  uint64            `json:"policy_version,omitempty"`
}

// Time returns the event's timestamp.
func (e Event) Time() time.Time { return time.Unix(e.EventTimestamp, 0).UTC() }

// EndsSessions reports whether a gateway should end the sessions of the
// event's device now.
func (e Event) EndsSessions() bool {
	return e.DeviceID != "" && e.CurrentStatus == StatusNotCompliant
}
