package events

import "strconv"

// Event types on the stream and in webhooks. A compliance change uses the
// OpenID CAEP device-compliance-change URI; the others are Postern's own.
const (
	EventTypeComplianceChange = "https://schemas.openid.net/secevent/caep/event-type/device-compliance-change"
	EventTypeDeviceRevoked    = "urn:postern:event:device-revoked"
	EventTypePolicyChanged    = "urn:postern:event:policy-changed"
	// EventTypeReset tells a client that it may have missed events (its
	// Last-Event-ID is older than the events the server keeps, or unknown
	// to the server's database, or audit retention removed events a
	// webhook never got) and must re-check every device it holds sessions
	// for.
	EventTypeReset = "urn:postern:event:reset"
)

// StreamEvent is one event of GET /v1/events and of webhooks, shaped after
// the CAEP device-compliance-change event: event_timestamp (seconds since
// the epoch), a complex subject naming the device (and its organization as
// tenant), current_status and previous_status ("compliant" or
// "not-compliant") and reason_admin. Postern adds the device ID and
// certificate hash at the top level, so that a gateway can match its
// sessions without parsing the subject, and the machine-readable reason
// codes of the decision.
type StreamEvent struct {
	ID             string            `json:"id"`
	EventType      string            `json:"event_type"`
	EventTimestamp int64             `json:"event_timestamp"`
	Subject        *Subject          `json:"subject,omitempty"`
	DeviceID       string            `json:"device_id,omitempty"`
	CertSHA256     string            `json:"cert_sha256,omitempty"`
	CurrentStatus  string            `json:"current_status,omitempty"`
	PreviousStatus string            `json:"previous_status,omitempty"`
	ReasonCodes    []string          `json:"reason_codes,omitempty"`
	ReasonAdmin    map[string]string `json:"reason_admin,omitempty"`
	PolicyVersion  uint64            `json:"policy_version,omitempty"`
}

// Subject is a CAEP complex subject.
type Subject struct {
	Format string      `json:"format"`
	Device *Identifier `json:"device,omitempty"`
	Tenant *Identifier `json:"tenant,omitempty"`
}

// Identifier is an opaque subject identifier.
type Identifier struct {
	Format string `json:"format"`
	ID     string `json:"id"`
}

// sseName is the SSE "event:" field of each event type.
var sseName = map[string]string{
	EventTypeComplianceChange: string(KindComplianceChange),
	EventTypeDeviceRevoked:    string(KindDeviceRevoked),
	EventTypePolicyChanged:    string(KindPolicyChanged),
	EventTypeReset:            "reset",
}

// SSEName is the event's Server-Sent Events "event:" field.
func (e StreamEvent) SSEName() string { return sseName[e.EventType] }

// NewStreamEvent converts a bus event to its public form.
func NewStreamEvent(e Event) StreamEvent {
	se := StreamEvent{
		ID:             strconv.FormatUint(e.ID, 10),
		EventTimestamp: e.EventTime.Unix(),
		DeviceID:       e.DeviceID,
		CertSHA256:     e.CertSHA256,
		CurrentStatus:  string(e.CurrentStatus),
		PreviousStatus: string(e.PreviousStatus),
		ReasonCodes:    e.ReasonCodes,
		PolicyVersion:  e.PolicyVersion,
	}
	switch e.Kind {
	case KindDeviceRevoked:
		se.EventType = EventTypeDeviceRevoked
	case KindPolicyChanged:
		se.EventType = EventTypePolicyChanged
	default:
		se.EventType = EventTypeComplianceChange
	}
	if e.DeviceID != "" {
		se.Subject = &Subject{Format: "complex", Device: &Identifier{Format: "opaque", ID: e.DeviceID}}
		if e.Org != "" {
			se.Subject.Tenant = &Identifier{Format: "opaque", ID: e.Org}
		}
	}
	if e.ReasonAdmin != "" {
		se.ReasonAdmin = map[string]string{"en": e.ReasonAdmin}
	}
	return se
}
