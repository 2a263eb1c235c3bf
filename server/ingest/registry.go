package ingest

import (
	"sync"

	pb "github.com/postern-dev/postern/proto"
)

// controlStream is a device's live control stream; writes are serialised
// because acks and pushed commands share it.
type controlStream struct {
	st *stream
	mu sync.Mutex
}

func (c *controlStream) send(env *pb.Envelope) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.send(env)
}

// registry maps device IDs to their newest live control stream.
type registry struct {
	mu sync.Mutex
	m  map[string]*controlStream
}

func (r *registry) add(id string, c *controlStream) {
	r.mu.Lock()
	r.m[id] = c
	r.mu.Unlock()
}

// remove forgets c unless a newer stream of the device replaced it.
func (r *registry) remove(id string, c *controlStream) {
	r.mu.Lock()
	if r.m[id] == c {
		delete(r.m, id)
	}
	r.mu.Unlock()
}

func (r *registry) get(id string) *controlStream {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m[id]
}

// Recheck asks the device to run a check cycle and report now. It returns
// ErrNotConnected when the device has no live control stream.
func (s *Server) Recheck(deviceID string) error {
	return s.push(deviceID, &pb.Command{Cmd: &pb.Command_Recheck{Recheck: &pb.RecheckNow{Reason: "requested by the server"}}})
}

// Connected reports whether the device has a live control stream.
func (s *Server) Connected(deviceID string) bool { return s.live.get(deviceID) != nil }

func (s *Server) push(deviceID string, cmd *pb.Command) error {
	c := s.live.get(deviceID)
	if c == nil {
		return ErrNotConnected
	}
	return c.send(&pb.Envelope{Msg: &pb.Envelope_Command{Command: cmd}})
}
