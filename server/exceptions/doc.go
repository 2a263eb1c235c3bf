// Package exceptions manages the two human-recorded inputs to decisions:
// exceptions, which waive one control for a device or an organization for
// at most a year with a reason and an approver, and users' yearly
// attestations of what a machine cannot show. Every change is audited.
// Index keeps the unexpired exceptions and recent attestations in memory,
// refreshed from the store, so that decisions never wait on them; an
// exception stops applying at its expiry by itself, without a refresh.
//
// The package is portable (linux, windows, darwin; CGO_ENABLED=0).
package exceptions
