// Package audit keeps postern-server's append-only, hash-chained audit log:
// enrollments, revocations, exceptions, policy changes, administrator
// actions, attestations, every deny and every decision change (allows are
// counted per device and hour).
//
// Each row holds seq, time, actor, kind, device, a JSON details object,
// prev_hash and hash, where hash is SHA-256 over a length-prefixed
// encoding of the other fields (see Hash). Verify walks the chain and names
// every row that was edited, deleted or inserted. Retention deletes only a
// prefix of the chain and records an anchor (the last deleted row's
// sequence and hash) so that the remaining chain still verifies; retention
// shorter than MinRetention is refused.
//
// A hash chain stops naive tampering and makes any edit visible; an
// attacker with write access to the database can still rewrite the whole
// chain, so export it regularly (Export) to storage they cannot reach.
//
// The package is portable (linux, windows, darwin; CGO_ENABLED=0).
package audit
