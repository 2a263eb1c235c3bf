// Package agreement holds one test: devices in every decision state
// (compliant, failing, waived by an exception, in a grace period, stale,
// inactive, revoked, attestation due or missing, unknown controls under
// deny and allow) on a real in-process server, and every surface that
// shows a device's standing — the decision API, /v1/authz, the
// dashboard's device page, list, CSV export and overview, the command
// line's device list and device show, and the /v1/events announcement of a change — must
// agree with GET /v1/decision. (The agent's status is checked against it
// in internal/e2e, with a real agent.)
package agreement
