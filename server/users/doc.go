// Package users holds the dashboard's local accounts: roles and what each
// may do, the password rules of Policy 550.04 C.6 (length, character
// classes, no names, 90-day age with a 14-day reminder, no reuse of the
// last 6, change at first sign-in, lock after 5 consecutive failures), and
// argon2id hashing with a per-user salt, and second factors (mfa.go):
// TOTP secrets sealed with the data directory's mfa.key, each code
// accepted once, hashed single-use recovery codes, the require-MFA
// setting and an administrator's reset. Accounts are persisted through
// store.Accounts and store.MFAStore. It is portable to every OS the
// server runs on.
package users
