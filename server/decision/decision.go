package decision

import (
	"fmt"
	"time"

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
)

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
}

// Decision is the answer of the decision API, encoded as JSON as is.
type Decision struct {
	Allow    bool   `json:"allow"`
	DeviceID string `json:"device_id"`
	User     string `json:"user,omitempty"`
	// Reasons lists why access is denied; empty (never null) when allowed.
	Reasons []Reason `json:"reasons"`
	// Warnings lists failing controls that do not block (yet).
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
	// HasReport is false when the device never reported.
	HasReport bool
	// PostureTime is when the latest report's facts were observed (see PostureTime).
	PostureTime time.Time
	// Verdicts of the latest report under the policy.
	Verdicts []checks.Verdict
	// FirstFailed maps each failing control to when it first failed.
	FirstFailed map[checks.ControlID]time.Time
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
	switch {
	case !in.Known:
		return d.deny(Reason{Code: CodeDeviceUnknown, Message: "no enrolled device has this identity",
			Remediation: "Enroll this device with the Postern agent."})
	case in.Revoked:
		return d.deny(Reason{Code: CodeDeviceRevoked, Message: "the device's enrollment was revoked",
			Remediation: "Contact the security team to enroll the device again."})
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
		switch cp.Enforcement {
		case checks.EnforceBlock:
			d.Reasons = append(d.Reasons, r)
		case checks.EnforceWarnThenBlock:
			since, ok := in.FirstFailed[v.ID]
			if !ok {
				since = in.PostureTime
			}
			if end := since.Add(cp.Grace); now.Before(end) {
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
		d.Warnings = nil
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
