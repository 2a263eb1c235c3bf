// Package client is the agent's side of the Postern wire protocol
// (docs/protocol.md) over QUIC with TLS 1.3: Enroll, on a connection
// without a client certificate, with the server's chain verified against
// the CA pinned in the enrollment token before the token is sent; and
// Session, the long-lived control stream opened with the device
// certificate, which sends reports, waits for their acks and passes the
// server's commands on. Host names are never checked: the CA is private
// to the deployment and pinned. Portable.
package client
