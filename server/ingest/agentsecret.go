package ingest

import (
	"crypto/tls"

	"github.com/quic-go/quic-go"

	pb "github.com/postern-dev/postern/proto"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

// agentProven checks the Hello's proof of the device's agent secret and
// refuses the stream when it is missing or wrong. The device key is not
// enough: on Linux a TPM key also serves the console user's browser, so
// any program of that user can open a TLS connection with it; only the
// agent, running as root/SYSTEM, can read the secret. A device enrolled
// before agent secrets has no hash stored and is let in, logged, until it
// enrolls again.
func (s *Server) agentProven(st *stream, dev store.Device, hello *pb.Hello) bool {
	if dev.AgentSecretHash == "" {
		st.log.Warn("device has no agent secret; enroll it again to bind reports to the agent")
		return true
	}
	cs, ok := connTLS(st.conn)
	reason := ""
	switch {
	case !ok:
		reason = "no_tls_state"
	case len(hello.GetAgentProof()) == 0:
		reason = "missing"
	case !pb.VerifyAgentProof(dev.AgentSecretHash, hello.GetAgentProof(), cs):
		reason = "wrong"
	}
	if reason == "" {
		return true
	}
	s.record(audit.Entry{Actor: audit.ActorAgent, Kind: audit.KindAgentProofRefused, DeviceID: dev.ID,
		Details: map[string]any{"reason": reason, "remote": st.conn.RemoteAddr().String()}})
	st.refuse(CodeAgentSecretInvalid, "this connection did not prove the device's agent secret: only the Postern agent "+
		"itself may report for the device (if the agent lost its state, enroll the device again)", 0, "reason", reason)
	return false
}

// connTLS returns the TLS state of a QUIC or TLS-over-TCP connection.
func connTLS(c remoteAddrer) (tls.ConnectionState, bool) {
	switch c := c.(type) {
	case *quic.Conn:
		return c.ConnectionState().TLS, true
	case *tls.Conn:
		return c.ConnectionState(), true
	}
	return tls.ConnectionState{}, false
}
