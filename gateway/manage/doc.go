// Package manage is a client for postern-server's management API: list
// and show devices with their decisions, revoke them or ask them to
// report now, grant and end exceptions, manage enrollment tokens and
// secrets, and export the audit log. Each call needs an API key with the
// endpoint's scope (`postern-server apikey create --scope ...`); a
// refusal is an *Error whose errors.Is matches ErrUnauthorized,
// ErrForbidden, ErrNotFound or ErrConflict.
//
// Like the gateway package beside it, it depends on the standard library
// only and runs on every OS Go supports.
package manage
