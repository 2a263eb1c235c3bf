package api

import (
	"context"
	"errors"
	"strings"

	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/store"
)

// CodeOtherUser is the reason code of a deny because the device is
// assigned to someone other than the user asking (Policy 550.04 C.7.a.vi:
// devices used for remote access are not shared).
const CodeOtherUser = "device_assigned_to_other_user"

// checkOwner denies d when the gateway named a user and the device is
// assigned to someone else. Names compare case-insensitively after
// trimming spaces, since directories disagree on case ("JDoe" and "jdoe").
// A device without an owner, or a request without a user, is not checked:
// ownership is only as strict as the enrollment tokens that set it.
func checkOwner(d decision.Decision, owner string) decision.Decision {
	user, owner := strings.TrimSpace(d.User), strings.TrimSpace(owner)
	if user == "" || owner == "" || strings.EqualFold(user, owner) {
		return d
	}
	d.Reasons = append(d.Reasons, decision.Reason{Code: CodeOtherUser,
		Message:     "this device is assigned to another person, and devices used for remote access must not be shared",
		Remediation: "Use the device assigned to you, or ask the security team to reassign this one."})
	if d.Allow {
		d.Allow = false
		d.ValidUntil = d.EvaluatedAt.Add(decision.DenyTTL)
	}
	return d
}

// decide asks the Decider about the device alone, then
// applies the shared-device check, which needs the device's owner: one
// more posture lookup (cached), made only when the gateway names a user.
func (a *api) decide(ctx context.Context, l lookup, user string) (decision.Decision, error) {
	// No per-request deadline: a decision from memory needs none, and a
	// store read sets its own (decision.PostureCache).
	d, err := a.cfg.Decider.Decide(ctx, decision.Lookup{DeviceID: l.deviceID, CertSHA256: l.certSHA256}, "")
	if err != nil || user == "" {
		return d, err
	}
	d.User = user
	if d.DeviceID == "" {
		return d, nil
	}
	p, err := a.posture(ctx, lookup{deviceID: d.DeviceID})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return d, nil
	case err != nil:
		return decision.Decision{}, err
	}
	return checkOwner(d, p.Device.Owner), nil
}
