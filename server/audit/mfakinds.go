package audit

// Kinds of the second factors of dashboard accounts (server/users).
const (
	// KindMFAEnrolled: a user switched on TOTP or registered a security
	// key (details: user, method).
	KindMFAEnrolled = "mfa_enrolled"
	// KindMFARemoved: a user removed one of their own factors.
	KindMFARemoved = "mfa_removed"
	// KindMFAReset: an administrator removed every factor of an account.
	KindMFAReset = "mfa_reset"
	// KindMFARefused: a second factor was refused (wrong, replayed or
	// unknown), counted like a wrong password.
	KindMFARefused = "mfa_refused"
	// KindRecoveryCodeUsed: a recovery code stood in for the second factor.
	KindRecoveryCodeUsed = "mfa_recovery_code_used"
	// KindRecoveryCodesCreated: new recovery codes replaced the old ones.
	KindRecoveryCodesCreated = "mfa_recovery_codes_created"
	// KindMFARequirement: an administrator switched the requirement of a
	// second factor for every local account on or off.
	KindMFARequirement = "mfa_requirement_changed"
)
