package ingest

import (
	"context"
	"testing"
)

func TestHeldEnrollments(t *testing.T) {
	t.Run("with enrollment.approve manual a new device is pending, and still reports", func(t *testing.T) {
		e := start(t, "", func(c *Config) { c.HoldEnrollments = true })
		d := e.enroll()
		dev, err := e.store.Device(context.Background(), d.id)
		if err != nil || !dev.Pending() {
			t.Fatalf("device %+v, %v: want pending", dev, err)
		}
		// Its posture is known by the time an administrator approves it.
		c := e.control(d)
		if ack := c.report(wireReport(1, "laptop-1")); ack.GetAck() == nil {
			t.Errorf("report answered %v, want an Ack", ack)
		}
	})
	t.Run("by default a valid token admits the device", func(t *testing.T) {
		e := start(t, "", nil)
		d := e.enroll()
		if dev, _ := e.store.Device(context.Background(), d.id); dev.Approval != "" {
			t.Errorf("approval %q", dev.Approval)
		}
	})
}
