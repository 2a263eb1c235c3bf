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

// registry maps device IDs to their live control streams, newest last,
// and remembers the devices this server saw revoked.
type registry struct {
	mu      sync.Mutex
	m       map[string][]*controlStream
	revoked map[string]struct{}
}

func (r *registry) add(id string, c *controlStream) {
	r.mu.Lock()
	r.m[id] = append(r.m[id], c)
	r.mu.Unlock()
}

// remove forgets c, leaving the device's other streams.
func (r *registry) remove(id string, c *controlStream) {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.m[id]
	for i, x := range l {
		if x == c {
			l = append(l[:i:i], l[i+1:]...)
			break
		}
	}
	if len(l) == 0 {
		delete(r.m, id)
		return
	}
	r.m[id] = l
}

// get returns the device's newest live control stream, or nil.
func (r *registry) get(id string) *controlStream {
	r.mu.Lock()
	defer r.mu.Unlock()
	if l := r.m[id]; len(l) > 0 {
		return l[len(l)-1]
	}
	return nil
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
