package ingest

import (
	"context"
	"strings"
	"testing"
	"time"

	pb "github.com/postern-dev/postern/proto"
)

func helloVersion(v string) *pb.Envelope {
	return &pb.Envelope{Msg: &pb.Envelope_Hello{Hello: &pb.Hello{ProtocolVersion: pb.ProtocolVersion, SoftwareVersion: v}}}
}

func TestAgentVersionIsRecorded(t *testing.T) {
	e := start(t, "", nil)
	version := func(id string) string {
		t.Helper()
		d, err := e.store.Device(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return d.AgentVersion
	}
	connect := func(d device, v string) {
		t.Helper()
		c := e.open(&d.cert)
		defer c.close()
		h := d.helloOn(t, c.conn.ConnectionState().TLS)
		h.GetHello().SoftwareVersion = v
		c.send(h)
		if h := c.mustRecv(); h.GetHello() == nil {
			t.Fatalf("control answer %v, want Hello", h)
		}
	}
	t.Run("the version in the enrollment's Hello is stored with the device", func(t *testing.T) {
		c := e.open(nil)
		defer c.close()
		_, csr := newCSR(t)
		c.send(helloVersion("1.2.0"))
		c.send(enrollRequest(e.token(time.Hour), csr))
		c.mustRecv()
		got := c.mustRecv().GetEnrolled()
		if got == nil {
			t.Fatal("not enrolled")
		}
		if v := version(got.DeviceId); v != "1.2.0" {
			t.Errorf("stored %q", v)
		}
	})
	d := e.enroll()
	t.Run("an upgraded agent's next connection records its new version", func(t *testing.T) {
		connect(d, "1.3.0")
		if v := version(d.id); v != "1.3.0" {
			t.Errorf("stored %q", v)
		}
	})
	t.Run("a hostile version is stored bounded and printable", func(t *testing.T) {
		connect(d, "9.9.9\n<script>alert(1)</script>"+strings.Repeat("x", 500))
		v := version(d.id)
		if len(v) > maxAgentVersion || strings.ContainsAny(v, "\n ") || !strings.HasPrefix(v, "9.9.9?<script>") {
			t.Errorf("stored %q", v)
		}
	})
}
