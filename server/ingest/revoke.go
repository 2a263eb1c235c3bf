package ingest

import (
	"io"
	"time"

	"github.com/quic-go/quic-go"
)

// revokeGrace is how long a revoked device's connection stays open after
// its control stream was told and closed, so that the Error reaches the
// agent before the connection close discards unsent data.
const revokeGrace = 500 * time.Millisecond

// Disconnect cuts off a device revoked while connected: every live
// control stream of it gets an Error with code device_revoked and is
// closed, and its connection is closed with an application error shortly
// after. The device's later reports on any stream of this server are
// refused. It returns how many live control streams were cut off; it is
// safe to call more than once and for devices that are not connected.
func (s *Server) Disconnect(deviceID string) int {
	s.live.mu.Lock()
	s.live.revoked[deviceID] = struct{}{}
	streams := append([]*controlStream(nil), s.live.m[deviceID]...)
	s.live.mu.Unlock()
	for _, cs := range streams {
		cs.revoke()
	}
	if len(streams) > 0 {
		s.log.Info("revoked device disconnected", "device_id", deviceID, "streams", len(streams))
	}
	return len(streams)
}

// isRevoked reports whether Disconnect was called for the device.
func (s *Server) isRevoked(deviceID string) bool {
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	_, ok := s.live.revoked[deviceID]
	return ok
}

// revoke tells the agent, ends the stream both ways (which unblocks the
// control loop's read) and closes the connection after revokeGrace.
func (c *controlStream) revoke() {
	c.mu.Lock()
	err := c.st.send(errorEnvelope(CodeDeviceRevoked, "this device's enrollment was revoked", 0))
	c.st.str.CancelRead(codeProtocol)
	c.st.str.Close()
	c.mu.Unlock()
	if err != nil {
		c.st.log.Debug("send revocation failed", "err", err)
	}
	conn := c.st.conn
	time.AfterFunc(revokeGrace, func() { closeConn(conn) })
}

// closeConn closes a QUIC connection with codeRevoked, or a TCP fallback
// connection.
func closeConn(conn remoteAddrer) {
	switch c := conn.(type) {
	case *quic.Conn:
		_ = c.CloseWithError(codeRevoked, "device revoked")
	case io.Closer:
		_ = c.Close()
	}
}
