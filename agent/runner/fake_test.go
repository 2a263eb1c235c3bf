package runner

import (
	"context"
	"errors"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/postern-dev/postern/agent/client"
	pb "github.com/postern-dev/postern/proto"
)

// fakeServer behaves like the server's ingest for one device: it stores
// reports in sequence order, acks a retransmission as a duplicate and
// refuses a replay. It can lose acks and refuse connections.
type fakeServer struct {
	mu        sync.Mutex
	stored    []*pb.Report
	sends     int
	dials     int
	failDials int // refuse this many dials first
	loseAcks  int // commit but lose the ack (and the connection) this many times
	commands  []*pb.Command
	refuse    string // refuse every report with this error code
}

func (f *fakeServer) dial(ctx context.Context) (Conn, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dials++
	if f.failDials > 0 {
		f.failDials--
		return nil, errors.New("connection refused")
	}
	c := &fakeConn{srv: f, done: make(chan struct{}), cmds: make(chan *pb.Command, 8)}
	for _, cmd := range f.commands {
		c.cmds <- cmd
	}
	f.commands = nil
	return c, nil
}

func (f *fakeServer) storedSeqs() []uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []uint64{}
	for _, r := range f.stored {
		out = append(out, r.GetSequence())
	}
	return out
}

type fakeConn struct {
	srv  *fakeServer
	done chan struct{}
	once sync.Once
	cmds chan *pb.Command
}

func (c *fakeConn) Send(ctx context.Context, r *pb.Report) (*pb.Ack, error) {
	select {
	case <-c.done:
		return nil, errors.New("connection closed")
	default:
	}
	f := c.srv
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sends++
	if f.refuse != "" {
		return nil, &client.ServerError{Code: f.refuse}
	}
	var last *pb.Report
	if n := len(f.stored); n > 0 {
		last = f.stored[n-1]
	}
	switch {
	case last != nil && r.GetSequence() == last.GetSequence() && proto.Equal(r, last):
		return &pb.Ack{Sequence: r.GetSequence(), Duplicate: true}, nil
	case last != nil && r.GetSequence() <= last.GetSequence():
		return nil, &client.ServerError{Code: client.CodeSequenceReplayed, Sequence: r.GetSequence()}
	}
	f.stored = append(f.stored, proto.Clone(r).(*pb.Report))
	if f.loseAcks > 0 {
		f.loseAcks--
		c.close()
		return nil, errors.New("connection lost before the ack")
	}
	return &pb.Ack{Sequence: r.GetSequence()}, nil
}

func (c *fakeConn) Renew(ctx context.Context, csr []byte) ([]byte, error) {
	return nil, errors.New("not supported by the fake")
}
func (c *fakeConn) Commands() <-chan *pb.Command { return c.cmds }
func (c *fakeConn) Done() <-chan struct{}        { return c.done }
func (c *fakeConn) Err() error                   { return errors.New("connection closed") }
func (c *fakeConn) Close() error                 { c.close(); return nil }
func (c *fakeConn) close()                       { c.once.Do(func() { close(c.done) }) }
