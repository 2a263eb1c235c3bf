// Package decision answers "may this device open a session now?". Decide is
// a pure function of what the store knows about the device (enrolled?
// revoked? latest report and its age, when each control first failed), the
// verdicts of checks.Evaluate and the checks.Policy, and the time.
//
// Verdicts depend on the report, the policy and (for ages such as anti-virus
// definitions) the time, so Cache keeps them per device keyed by report
// sequence and policy version and re-evaluates after a short TTL; a decision
// on a cache hit costs a map lookup and a loop over ten verdicts.
//
// PostureCache keeps each device's stored posture (device record, latest
// report, first failures) by device ID and by certificate hash, for the
// whole fleet, so that a gateway's repeated questions do not reach the
// database; ForgetOnWrite wraps the store so that every write made in this
// process drops the device's entry at once, the server forgets a device
// on each decision change its audit feed reads (any replica's) and on
// each revocation by the command line, and DefaultPostureTTL bounds the
// rest (see there). Its Fleet is the whole fleet's postures for lists:
// read in bulk at most once a TTL, with the devices written since read
// one by one. Decisions are never cached: the time-dependent parts are
// recomputed from the cached posture on each request.
//
// Engine wraps Decide with everything else the server knows: the policy
// profile of the device's organization (server/policy), exceptions and user
// attestations (server/exceptions), inactivity after InactiveAfter without
// a report, and revocation. It compares each decision with the device's
// last announced one, stored in the database, and when it changed (after a
// report, on a periodic sweep, or under a new policy) swaps the stored one
// and records the change in the audit log, from which server/events
// publishes it. The swap is conditional, so of several server replicas
// only one records a change. Impact evaluates a candidate policy for the
// mass-failure guard.
//
// Every other surface shows the engine's answer too: Current (one device)
// and Fleet or All (the fleet) decide without counting or announcing, for the
// dashboard, the command line (ForStore: an engine over a store and its
// applied policy) and the agent's acks (ToWire). AccessOf sums a decision
// up in one word: allowed, blocked, allowed_by_exception or warned (with
// the deadline when a warning starts to block). A stored report that no
// longer decodes makes its device's controls unknown with the reason
// (UnreadableReport) on every surface, never an error for the fleet.
//
// The package is portable.
package decision
