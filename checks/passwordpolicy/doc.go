// Package passwordpolicy is the `password_policy` control (Policy 550.04
// C.6.a.i-ix): minimum length, character classes, maximum age, history and
// lockout threshold, each judged separately against the policy's
// Thresholds.
//
// Linux: the PAM password stack (common-password, else system-auth or
// password-auth, with @include) for pam_pwquality (pwquality.conf.d/*.conf,
// then pwquality.conf, then module arguments; enforcing=0 counts as not
// enforced) or pam_cracklib, the effective minimum length after length
// credits, pam_unix minlen and remember=, pam_pwhistory remember; the auth
// stack (common-auth or system-auth) for pam_faillock deny (arguments, then
// faillock.conf) or pam_tally2 deny; login.defs PASS_MAX_DAYS, checked
// against each interactive account's own maximum age in /etc/shadow.
//
// Windows: `secedit /export /areas SECURITYPOLICY` to a fixed file in
// %SystemDrive%\ProgramData\Postern (the host interface has no temporary
// file), read as UTF-16LE; `net accounts` read by line position as the
// fallback (no complexity); domain Group Policy from RSOP_SecuritySetting*
// in root\RSOP\Computer overrides; an MDM's Policy CSP DeviceLock values
// (PolicyManager\current\device\DeviceLock) override the local ones, and
// override domain Group Policy only where Policy CSP
// ControlPolicyConflict/MDMWinsOverGP is 1 (an unreadable switch leaves a
// sub-rule on which the two disagree unknown).
//
// macOS: `pwpolicy -getaccountpolicies` (macOS's default '^$|.{4,}+'
// accepts an empty password: minimum 0), overridden by a configuration
// profile's managed com.apple.mobiledevice.passwordpolicy values.
//
// Collectors are portable and chosen by the host's GOOS, so that any OS's
// snapshot can be checked anywhere.
package passwordpolicy
