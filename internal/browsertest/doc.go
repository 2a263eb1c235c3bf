// Package browsertest drives the dashboard in Debian's Chromium through
// chromedp: sign-in, lockout, forced password change, an admin adding an
// account, filters, roles, TOTP enrolment and sign-in and a security
// key through Chromium's virtual authenticator (docs/mfa.md),
// escaping of hostile agent strings, CSRF and idle expiry. With
// -update-screenshots it also writes docs/screenshots/*.png from a seeded
// fleet. Without Chromium the tests skip, or fail when CI is set.
package browsertest
