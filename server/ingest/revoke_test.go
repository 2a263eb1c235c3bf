package ingest

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	pb "github.com/postern-dev/postern/proto"
)

func TestDisconnect(t *testing.T) {
	t.Run("a connected device is told it was revoked, then its connection is closed", func(t *testing.T) {
		e := start(t, "", nil)
		d := e.enroll()
		c := e.control(d)
		if err := e.store.Revoke(context.Background(), d.id, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		began := time.Now()
		if n := e.srv.Disconnect(d.id); n != 1 {
			t.Fatalf("Disconnect = %d streams, want 1", n)
		}
		if got := errorCode(c.mustRecv()); got != CodeDeviceRevoked {
			t.Fatalf("got code %q, want %s", got, CodeDeviceRevoked)
		}
		if _, err := c.recv(); !errors.Is(err, io.EOF) && !isStreamOrConnError(err) {
			t.Fatalf("read after the error = %v, want the stream closed", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		select {
		case <-c.conn.Context().Done():
		case <-ctx.Done():
			t.Fatal("the connection stayed open")
		}
		var ae *quic.ApplicationError
		if err := context.Cause(c.conn.Context()); !errors.As(err, &ae) || ae.ErrorCode != codeRevoked {
			t.Fatalf("connection ended with %v, want application error %d", err, codeRevoked)
		}
		t.Logf("revoke to connection closed: %v", time.Since(began))
		if err := e.handshakeRefused(&d.cert); err != nil {
			t.Fatalf("reconnect: %v", err)
		}
	})
	t.Run("a device cut off has its reports refused on a new stream", func(t *testing.T) {
		e := start(t, "", nil)
		d := e.enroll()
		e.srv.Disconnect(d.id) // the store does not know yet
		c := e.control(d)
		defer c.close()
		if got := errorCode(c.report(wireReport(1, "h"))); got != CodeDeviceRevoked {
			t.Fatalf("got code %q, want %s", got, CodeDeviceRevoked)
		}
		if _, err := c.recv(); !errors.Is(err, io.EOF) && !isStreamOrConnError(err) {
			t.Fatalf("read after the error = %v, want the stream closed", err)
		}
	})
	t.Run("a device without a live stream is remembered and nothing is closed", func(t *testing.T) {
		e := start(t, "", nil)
		other := e.control(e.enroll())
		defer other.close()
		if n := e.srv.Disconnect("no-such-device"); n != 0 {
			t.Fatalf("Disconnect = %d streams, want 0", n)
		}
		if env := other.report(wireReport(1, "h")); env.GetAck() == nil {
			t.Fatalf("another device's report got %v, want an Ack", env)
		}
	})
	t.Run("a device on the TCP fallback is told and disconnected", func(t *testing.T) {
		e := start(t, "", nil)
		addr := startTCP(t, e)
		d := e.enroll()
		c, err := dialTCP(t, e, addr, &d.cert, pb.ALPN)
		if err != nil {
			t.Fatal(err)
		}
		if h := c.roundTrip(d.helloOn(t, c.c.ConnectionState())); h.GetHello() == nil {
			t.Fatalf("control answer %v, want Hello", h)
		}
		for e.srv.live.get(d.id) == nil {
			time.Sleep(time.Millisecond) // the registry is filled right after Hello is sent
		}
		if n := e.srv.Disconnect(d.id); n != 1 {
			t.Fatalf("Disconnect = %d streams, want 1", n)
		}
		c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
		env, err := pb.ReadMsg(c.c)
		if err != nil || errorCode(env) != CodeDeviceRevoked {
			t.Fatalf("got %v, %v, want %s", env, err, CodeDeviceRevoked)
		}
		if _, err := pb.ReadMsg(c.c); err == nil {
			t.Fatal("the connection stayed open")
		}
	})
}
