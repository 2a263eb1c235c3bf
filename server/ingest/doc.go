// Package ingest is postern-server's QUIC endpoint (docs/protocol.md): it
// enrolls devices that connect without a client certificate, and on the
// control stream of devices that present their certificate it commits
// reports to the store, acknowledges them, and pushes commands (Recheck).
//
// Each stream is isolated: frames are bounded by pb.ReadMsg, every read and
// write has a deadline, a connection may open only a few streams, and failed
// enrollments are rate-limited per source address, so one misbehaving agent
// cannot hold up another.
//
// The package is portable.
package ingest
