package users

import "fmt"

// Role is what an account may do on the dashboard.
type Role string

// Roles, from least to most trusted for day-to-day work. Admin manages the
// system but does not approve exceptions: that is the security officer's
// (approver's) call, so that the two duties stay apart.
const (
	RoleViewer   Role = "viewer"
	RoleAnalyst  Role = "analyst"
	RoleApprover Role = "approver"
	RoleAdmin    Role = "admin"
)

// Roles lists every role.
var Roles = []Role{RoleViewer, RoleAnalyst, RoleApprover, RoleAdmin}

// Permission is one kind of action checked on the server.
type Permission string

// Permissions.
const (
	PermView      Permission = "view"
	PermViewAudit Permission = "view_audit"
	PermRecheck   Permission = "recheck"
	PermNote      Permission = "note"
	PermException Permission = "exception"
	PermRevoke    Permission = "revoke"
	PermTokens    Permission = "tokens"
	PermUsers     Permission = "users"
	PermPolicy    Permission = "policy"
)

var grants = map[Role][]Permission{
	RoleViewer:   {PermView},
	RoleAnalyst:  {PermView, PermViewAudit, PermRecheck, PermNote},
	RoleApprover: {PermView, PermViewAudit, PermRecheck, PermNote, PermException},
	RoleAdmin:    {PermView, PermViewAudit, PermRecheck, PermNote, PermRevoke, PermTokens, PermUsers, PermPolicy},
}

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) {
	if _, ok := grants[Role(s)]; !ok {
		return "", fmt.Errorf("unknown role %q (want viewer, analyst, approver or admin)", s)
	}
	return Role(s), nil
}

// Can reports whether the role grants p. Unknown roles grant nothing.
func (r Role) Can(p Permission) bool {
	for _, g := range grants[r] {
		if g == p {
			return true
		}
	}
	return false
}
