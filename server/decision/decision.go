package decision

import (
	"fmt"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/postern-dev/postern/checks"
)

// Reason codes, stable for gateways and scripts.
const (
	CodeDeviceUnknown  = "device_unknown"
	CodeDeviceRevoked  = "device_revoked"
	CodeNoReport       = "no_report"
	CodeReportStale    = "report_stale"
	CodeControlFailed  = "control_failed"
	CodeControlUnknown = "control_unknown"
	// CodeDeviceInactive: no report for InactiveAfter; the device must
	// enroll again.
	CodeDeviceInactive = "device_inactive"
	// CodeAttestationMissing: the policy requires a user attestation newer
	// than its maximum age and there is none.
	CodeAttestationMissing = "attestation_missing"
	// CodeAttestationDue (a warning): no valid attestation, but the device
	// is still within the policy's grace period.
	CodeAttestationDue = "attestation_due"
	// CodeDeviceKeySoftware: the policy requires a hardware-bound device
	// key and the device's key was not attested to be in a trusted TPM;
	// a warning while within the policy's grace or under notify.
	CodeDeviceKeySoftware = "device_key_software"
	// CodeEnrollmentPending: the server holds new enrollments for an
	// administrator's approval and this one has not been approved yet.
	CodeEnrollmentPending = "enrollment_pending"
	// CodeEnrollmentDenied: an administrator denied the enrollment.
	CodeEnrollmentDenied = "enrollment_denied"
	// CodeAgentOutdated: the device's agent is older than the policy's
	// minimum agent version (or never said which it is); a warning while
	// within the policy's grace or under notify.
	CodeAgentOutdated = "agent_outdated"
	// CodeExceptionApplied (a warning): a failing control is waived by an
	// exception until its expiry.
	CodeExceptionApplied = "exception_applied"
)

// InactiveAfter is how long a device may go without a report before it is
// inactive: denied, its certificate refused, and re-enrollment needed.
const InactiveAfter = 90 * 24 * time.Hour

// Inactive reports whether a device last seen at lastSeen is inactive at now.
func Inactive(lastSeen, now time.Time) bool {
	return !lastSeen.IsZero() && now.Sub(lastSeen) > InactiveAfter
}

// Waiver is an exception that applies to one control of the device.
type Waiver struct {
	ID        string
	ExpiresAt time.Time
}

// Attestation is the device's user-attestation state under the policy.
type Attestation struct {
	Required bool
	// At is the latest attestation; zero if none.
	At     time.Time
	MaxAge time.Duration
	// Grace lets a device without a valid attestation in, with a warning,
	// until Grace after EnrolledAt (never attested) or after the last one
	// expired.
	Grace      time.Duration
	EnrolledAt time.Time
}

// DeviceKey is where the device's key lives and what the policy wants.
type DeviceKey struct {
	// Kind is "hardware" (attested at enrollment) or "software".
	Kind            string
	RequireHardware bool
	Enforcement     checks.Enforcement
	// Grace, under warn_then_block, counts from EnrolledAt.
	Grace      time.Duration
	EnrolledAt time.Time
}

// AgentVersion is the device's agent version and the policy's minimum.
type AgentVersion struct {
	// Version is what the agent last gave; empty if never.
	Version string
	// Minimum is the policy's minimum; nil requires none.
	Minimum     *semver.Version
	Enforcement checks.Enforcement
	// Under warn_then_block, an older agent is warned until Since+Grace.
	Since time.Time
	Grace time.Duration
}

// outdated reports whether the agent is older than the minimum; a version
// that cannot be read is older than any minimum.
func (a AgentVersion) outdated() bool {
	if a.Minimum == nil {
		return false
	}
	v, err := semver.NewVersion(a.Version)
	return err != nil || v.LessThan(a.Minimum)
}

// How long a decision may be cached by its consumer (valid_until), at most.
const (
	AllowTTL = 60 * time.Second
	DenyTTL  = 10 * time.Second
)

// Reason explains one cause of a deny, or a warning on an allow.
type Reason struct {
	Code        string `json:"code"`
	Control     string `json:"control,omitempty"`
	Message     string `json:"message"`
	Remediation string `json:"remediation,omitempty"`
	// Until is, for a warning, when it stops being one: the end of a
	// grace period (it then blocks) or of an exception (the control then
	// counts again). Zero for a deny and for a notify-only warning.
	Until time.Time `json:"until,omitzero"`
}

// Decision is the answer of the decision API, encoded as JSON as is.
type Decision struct {
	Allow    bool   `json:"allow"`
	DeviceID string `json:"device_id"`
	User     string `json:"user,omitempty"`
	// Key is where the device key lives: "hardware" (attested to be in a
	// trusted TPM at enrollment) or "software"; empty for unknown devices.
	Key string `json:"key,omitempty"`
	// Reasons lists why access is denied; empty (never null) when allowed.
	Reasons []Reason `json:"reasons"`
	// Warnings lists failing controls that do not block (yet), on a deny
	// too, so that a block page can say what will block next.
	Warnings []Reason `json:"warnings,omitempty"`
	// PostureAgeSeconds is the age of the latest report; -1 when there is none.
	PostureAgeSeconds int64     `json:"posture_age_seconds"`
	EvaluatedAt       time.Time `json:"evaluated_at"`
	// ValidUntil is when the consumer must ask again at the latest.
	ValidUntil time.Time `json:"valid_until"`
}

// Input is what the store knows about the device.
type Input struct {
	DeviceID string
	User     string
	Known    bool
	Revoked  bool
	// Approval is the device's enrollment approval (store.Device.Approval):
	// "pending", "denied" or empty (approved).
	Approval string
	// HasReport is false when the device never reported.
	HasReport bool
	// PostureTime is when the latest report's facts were observed (see PostureTime).
	PostureTime time.Time
	// Verdicts of the latest report under the policy.
	Verdicts []checks.Verdict
	// FirstFailed maps each failing control to when it first failed.
	FirstFailed map[checks.ControlID]time.Time
	// Inactive is set when the device has not reported for InactiveAfter.
	Inactive bool
	// Waived maps controls waived by an exception now to the exception.
	Waived map[checks.ControlID]Waiver
	// Attestation is the device's user attestation under the policy.
	Attestation Attestation
	// DeviceKey is the device's key kind under the policy.
	DeviceKey DeviceKey
	// AgentVersion is the device's agent version under the policy.
	AgentVersion AgentVersion
}

// PostureTime is the time a report's facts are taken to describe: the
// agent's collection time, but never later than the server received it, so
// that an agent clock running ahead cannot extend a report's freshness.
func PostureTime(collectedAt, receivedAt time.Time) time.Time {
	if collectedAt.IsZero() || collectedAt.After(receivedAt) {
		return receivedAt
	}
	return collectedAt
}

// Decide answers for in under policy p at time now. It never fails: every
// doubt is a deny with a reason.
func Decide(in Input, p *checks.Policy, now time.Time) Decision {
	now = now.UTC().Truncate(time.Second)
	d := Decision{DeviceID: in.DeviceID, User: in.User, Reasons: []Reason{}, PostureAgeSeconds: -1, EvaluatedAt: now}
	if in.Known {
		d.Key = in.DeviceKey.Kind
		if d.Key == "" {
			d.Key = "software"
		}
	}
	switch {
	case !in.Known:
		return d.deny(Reason{Code: CodeDeviceUnknown, Message: "no enrolled device has this identity",
			Remediation: "Enroll this device with the Postern agent."})
	case in.Approval == "denied":
		return d.deny(Reason{Code: CodeEnrollmentDenied, Message: "an administrator denied this device's enrollment",
			Remediation: "Contact the security team; the device must enroll again once they agree."})
	case in.Approval == "pending":
		return d.deny(Reason{Code: CodeEnrollmentPending, Message: "this device's enrollment is waiting for an administrator's approval",
			Remediation: "Ask the security team to approve the device (postern-server device approve, or the dashboard's device page)."})
	case in.Revoked:
		return d.deny(Reason{Code: CodeDeviceRevoked, Message: "the device's enrollment was revoked",
			Remediation: "Contact the security team to enroll the device again."})
	case in.Inactive:
		return d.deny(Reason{Code: CodeDeviceInactive, Message: "the device has not reported for more than 90 days",
			Remediation: "Enroll this device again with the Postern agent."})
	case !in.HasReport:
		return d.deny(Reason{Code: CodeNoReport, Message: "the device has not reported its posture yet",
			Remediation: "Make sure the Postern agent is running and can reach the server."})
	}
	age := now.Sub(in.PostureTime)
	if age < 0 {
		age = 0
	}
	d.PostureAgeSeconds = int64(age / time.Second)
	if age > p.MaxReportAge {
		return d.deny(Reason{Code: CodeReportStale,
			Message:     fmt.Sprintf("the latest report is %s old; at most %s is allowed", age.Truncate(time.Second), p.MaxReportAge),
			Remediation: "Make sure the Postern agent is running and can reach the server."})
	}
	validUntil := minTime(now.Add(AllowTTL), in.PostureTime.Add(p.MaxReportAge))
	for i := range in.Verdicts {
		v := &in.Verdicts[i]
		code, bad := badStatus(v.Status, p)
		if !bad {
			continue
		}
		cp := p.Control(v.ID)
		r := Reason{Code: code, Control: string(v.ID), Message: v.Summary, Remediation: v.Remediation}
		if w, ok := in.Waived[v.ID]; ok && now.Before(w.ExpiresAt) {
			if cp.Enforcement != checks.EnforceReport {
				r.Code = CodeExceptionApplied
				r.Message = fmt.Sprintf("%s (waived by exception %s until %s)", v.Summary, w.ID, w.ExpiresAt.UTC().Format(time.RFC3339))
				r.Until = w.ExpiresAt.UTC()
				d.Warnings = append(d.Warnings, r)
			}
			validUntil = minTime(validUntil, w.ExpiresAt)
			continue
		}
		switch cp.Enforcement {
		case checks.EnforceBlock:
			d.Reasons = append(d.Reasons, r)
		case checks.EnforceWarnThenBlock:
			since, ok := in.FirstFailed[v.ID]
			if !ok {
				since = in.PostureTime
			}
			if end := since.Add(cp.Grace); now.Before(end) {
				r.Until = end.UTC()
				d.Warnings = append(d.Warnings, r)
				validUntil = minTime(validUntil, end)
			} else {
				d.Reasons = append(d.Reasons, r)
			}
		case checks.EnforceNotify:
			d.Warnings = append(d.Warnings, r)
		}
	}
	if a := in.Attestation; a.Required {
		if a.At.IsZero() || now.Sub(a.At) > a.MaxAge {
			r := Reason{Code: CodeAttestationMissing,
				Message:     "no user attestation of the remote-access rules within the last year",
				Remediation: "Read and accept the remote-access statement (Policy 550.04 C.7): run `postern-agent attest` on the laptop, or ask the security team to record it."}
			from := a.EnrolledAt
			if !a.At.IsZero() {
				from = a.At.Add(a.MaxAge)
			}
			if end := from.Add(a.Grace); a.Grace > 0 && !from.IsZero() && now.Before(end) {
				r.Code = CodeAttestationDue
				r.Message = "the yearly user attestation is due by " + end.UTC().Format("2006-01-02")
				r.Until = end.UTC()
				d.Warnings = append(d.Warnings, r)
				validUntil = minTime(validUntil, end)
			} else {
				d.Reasons = append(d.Reasons, r)
			}
		} else {
			validUntil = minTime(validUntil, a.At.Add(a.MaxAge))
		}
	}
	if k := in.DeviceKey; k.RequireHardware && d.Key != "hardware" {
		r := Reason{Code: CodeDeviceKeySoftware,
			Message:     "the device key is not attested to be in a TPM; the policy requires a hardware-bound key",
			Remediation: "Enroll the device again on a machine with a TPM 2.0 (enabled in the firmware), or ask the security team to add the TPM manufacturer's CA to the server."}
		switch k.Enforcement {
		case checks.EnforceBlock:
			d.Reasons = append(d.Reasons, r)
		case checks.EnforceWarnThenBlock:
			if end := k.EnrolledAt.Add(k.Grace); !k.EnrolledAt.IsZero() && now.Before(end) {
				r.Message = "the device key is not attested to be in a TPM; a hardware-bound key is required from " + end.UTC().Format("2006-01-02")
				r.Until = end.UTC()
				d.Warnings = append(d.Warnings, r)
				validUntil = minTime(validUntil, end)
			} else {
				d.Reasons = append(d.Reasons, r)
			}
		case checks.EnforceNotify:
			d.Warnings = append(d.Warnings, r)
		}
	}
	if a := in.AgentVersion; a.outdated() {
		have := a.Version
		if have == "" {
			have = "an unknown version"
		}
		r := Reason{Code: CodeAgentOutdated,
			Message:     fmt.Sprintf("the Postern agent is %s; the policy requires %s or later", have, a.Minimum.Original()),
			Remediation: "Update the Postern agent (install the newer package, or ask IT to push it)."}
		switch a.Enforcement {
		case checks.EnforceBlock:
			d.Reasons = append(d.Reasons, r)
		case checks.EnforceWarnThenBlock:
			if end := a.Since.Add(a.Grace); now.Before(end) {
				r.Message = fmt.Sprintf("the Postern agent is %s; %s or later is required from %s", have, a.Minimum.Original(), end.UTC().Format("2006-01-02"))
				r.Until = end.UTC()
				d.Warnings = append(d.Warnings, r)
				validUntil = minTime(validUntil, end)
			} else {
				d.Reasons = append(d.Reasons, r)
			}
		case checks.EnforceNotify:
			d.Warnings = append(d.Warnings, r)
		}
	}
	if len(d.Reasons) > 0 {
		d.ValidUntil = now.Add(DenyTTL)
		return d
	}
	d.Allow = true
	d.ValidUntil = validUntil.UTC().Truncate(time.Second)
	return d
}

func (d Decision) deny(r Reason) Decision {
	d.Reasons = append(d.Reasons, r)
	d.ValidUntil = d.EvaluatedAt.Add(DenyTTL)
	return d
}

// badStatus says whether a verdict counts against the device, and as what.
func badStatus(s checks.Status, p *checks.Policy) (string, bool) {
	switch s {
	case checks.StatusFail:
		return CodeControlFailed, true
	case checks.StatusUnknown:
		return CodeControlUnknown, p.Unknown != checks.UnknownAllow
	}
	return "", false
}

// Failing lists the controls whose verdicts count against the device under
// p (failed, or unknown when unknown denies), for first-failure tracking.
func Failing(vs []checks.Verdict, p *checks.Policy) []checks.ControlID {
	var out []checks.ControlID
	for _, v := range vs {
		if _, bad := badStatus(v.Status, p); bad {
			out = append(out, v.ID)
		}
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
