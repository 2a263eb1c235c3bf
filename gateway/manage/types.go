package manage

import (
	"encoding/json"
	"time"

	"github.com/postern-dev/postern/gateway"
)

// Device is a device with the server's decision for it.
type Device struct {
	ID           string    `json:"id"`
	Hostname     string    `json:"hostname"`
	OS           string    `json:"os"`
	OSName       string    `json:"os_name,omitempty"`
	OSVersion    string    `json:"os_version,omitempty"`
	Owner        string    `json:"owner"`
	Org          string    `json:"org"`
	KeyKind      string    `json:"key_kind"`
	EnrolledAt   time.Time `json:"enrolled_at"`
	LastSeenAt   time.Time `json:"last_seen_at,omitzero"`
	LastReportAt time.Time `json:"last_report_at,omitzero"`
	RevokedAt    time.Time `json:"revoked_at,omitzero"`
	CertNotAfter time.Time `json:"cert_not_after,omitzero"`
	// Status is compliant, noncompliant, stale, inactive or revoked.
	Status string `json:"status"`
	// Access is allowed, allowed_by_exception, warned or blocked.
	Access string `json:"access"`
	// AccessDeadline is when a warning turns into a block.
	AccessDeadline time.Time        `json:"access_deadline,omitzero"`
	Decision       gateway.Decision `json:"decision"`
}

// DeviceFilter selects devices; empty fields do not filter.
type DeviceFilter struct {
	Status, Access, OS, Org, User string
	// Query matches a substring of the hostname, owner or device ID.
	Query string
	// Offset skips devices; Limit is the page size (server default 100,
	// at most 1000).
	Offset, Limit int
}

// DevicePage is one page of devices.
type DevicePage struct {
	Devices []Device `json:"devices"`
	// Total is how many devices match in all.
	Total int `json:"total"`
	// NextOffset is the next page's offset; nil on the last page.
	NextOffset *int `json:"next_offset,omitempty"`
}

// ExceptionRequest grants an exception: one of DeviceID and Org, one of
// ExpiresAt and Days.
type ExceptionRequest struct {
	DeviceID  string    `json:"device_id,omitempty"`
	Org       string    `json:"org,omitempty"`
	Control   string    `json:"control"`
	Reason    string    `json:"reason"`
	StartsAt  time.Time `json:"starts_at,omitzero"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	Days      int       `json:"days,omitempty"`
}

// ExceptionFilter selects exceptions; empty fields do not filter.
type ExceptionFilter struct {
	DeviceID, Org, Control string
	// All includes exceptions ended early.
	All bool
}

// Exception is a granted exception.
type Exception struct {
	ID        string    `json:"id"`
	Scope     string    `json:"scope"`
	Subject   string    `json:"subject"`
	Control   string    `json:"control"`
	Reason    string    `json:"reason"`
	Approver  string    `json:"approver"`
	StartsAt  time.Time `json:"starts_at"`
	ExpiresAt time.Time `json:"expires_at"`
	CreatedAt time.Time `json:"created_at"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
	EndedBy   string    `json:"ended_by,omitempty"`
}

// EnrollmentToken is a one-time enrollment token as listed.
type EnrollmentToken struct {
	ID    string `json:"id"`
	Org   string `json:"org"`
	Owner string `json:"owner"`
	// State is unused, used or expired.
	State     string    `json:"state"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	UsedAt    time.Time `json:"used_at,omitzero"`
	DeviceID  string    `json:"device_id,omitempty"`
}

// TokenRequest creates an enrollment token.
type TokenRequest struct {
	Org   string `json:"org,omitempty"`
	Owner string `json:"owner,omitempty"`
	// ExpiresIn is a lifetime such as "72h" or "7d" (server default 72h).
	ExpiresIn string `json:"expires_in,omitempty"`
}

// NewEnrollmentToken is a created token: Token is shown only once.
type NewEnrollmentToken struct {
	Token string `json:"token"`
	EnrollmentToken
}

// EnrollmentSecret is a reusable enrollment secret as listed.
type EnrollmentSecret struct {
	ID        string    `json:"id"`
	Org       string    `json:"org"`
	Owner     string    `json:"owner,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	MaxUses   int       `json:"max_uses"`
	Uses      int       `json:"uses"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	// State is active, revoked, expired or used up.
	State string `json:"state"`
}

// SecretRequest creates an enrollment secret; Org is required.
type SecretRequest struct {
	Org   string `json:"org"`
	Owner string `json:"owner,omitempty"`
	// ExpiresIn is a lifetime such as "90d" (server default 30d).
	ExpiresIn string `json:"expires_in,omitempty"`
	// MaxUses is the most devices it may enroll; 0 is no limit.
	MaxUses int `json:"max_uses,omitempty"`
}

// NewEnrollmentSecret is a created secret: Secret is shown only once.
type NewEnrollmentSecret struct {
	Secret string `json:"secret"`
	EnrollmentSecret
}

// AuditFilter selects audit rows; empty fields do not filter.
type AuditFilter struct {
	// After is the sequence number to start after (the last row's Seq of
	// a previous export).
	After uint64
	// Limit is the most rows to read; 0 reads to the end.
	Limit                 int
	Kind, Actor, DeviceID string
	From, To              time.Time
}

// AuditRow is one audit row, hash chain included, as `postern-server
// audit export` writes it.
type AuditRow struct {
	Seq      uint64          `json:"seq"`
	Time     time.Time       `json:"time"`
	Actor    string          `json:"actor"`
	Kind     string          `json:"kind"`
	DeviceID string          `json:"device_id,omitempty"`
	Details  json.RawMessage `json:"details"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}
