// Package users holds the dashboard's local accounts: roles and what each
// may do, the password rules of Policy 550.04 C.6 (length, character
// classes, no names, 90-day age with a 14-day reminder, no reuse of the
// last 6, change at first sign-in, lock after 5 consecutive failures), and
// argon2id hashing with a per-user salt. Accounts are persisted through
// store.Accounts. It is portable to every OS the server runs on.
package users
