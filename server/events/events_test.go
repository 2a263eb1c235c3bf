package events

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func ids(ch <-chan Event, n int) []uint64 {
	var out []uint64
	for range n {
		e, ok := <-ch
		if !ok {
			break
		}
		out = append(out, e.ID)
	}
	return out
}

func TestBus(t *testing.T) {
	t.Run("a subscriber receives events published after it subscribed, in order", func(t *testing.T) {
		b := NewBus(func() time.Time { return t0 })
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		b.Publish(Event{Kind: KindPolicyChanged})
		ch, ok := b.Subscribe(ctx, 0)
		if !ok {
			t.Fatal("ok = false for a fresh subscription")
		}
		b.Publish(Event{Kind: KindComplianceChange, DeviceID: "a"})
		b.Publish(Event{Kind: KindComplianceChange, DeviceID: "b", EventTime: t0.Add(time.Second)})
		got := []Event{<-ch, <-ch}
		want := []Event{
			{ID: 2, Kind: KindComplianceChange, DeviceID: "a", EventTime: t0},
			{ID: 3, Kind: KindComplianceChange, DeviceID: "b", EventTime: t0.Add(time.Second)},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})
	t.Run("a resuming subscriber gets the retained events after its last ID", func(t *testing.T) {
		b := NewBus(nil)
		for range 5 {
			b.Publish(Event{Kind: KindComplianceChange})
		}
		ch, ok := b.Subscribe(t.Context(), 3)
		if !ok {
			t.Error("ok = false, want true")
		}
		if diff := cmp.Diff([]uint64{4, 5}, ids(ch, 2)); diff != "" {
			t.Errorf("ids (-want +got):\n%s", diff)
		}
	})
	t.Run("resuming from an ID the bus never issued reports a gap", func(t *testing.T) {
		b := NewBus(nil)
		b.Publish(Event{})
		if _, ok := b.Subscribe(t.Context(), 9); ok {
			t.Error("ok = true, want false")
		}
	})
	t.Run("resuming from before the retained events reports a gap", func(t *testing.T) {
		b := NewBus(nil)
		for range DefaultReplay + 10 {
			b.Publish(Event{})
		}
		ch, ok := b.Subscribe(t.Context(), 1)
		if ok {
			t.Error("ok = true, want false")
		}
		if got := ids(ch, 1); len(got) != 1 || got[0] != 11 {
			t.Errorf("first replayed id = %v, want 11", got)
		}
	})
	t.Run("a subscriber that falls behind is closed, not waited for", func(t *testing.T) {
		b := NewBus(nil)
		ch, _ := b.Subscribe(t.Context(), 0)
		for range DefaultBuffer + DefaultReplay + 1 {
			b.Publish(Event{})
		}
		n := 0
		for range ch {
			n++
		}
		if n != DefaultBuffer+DefaultReplay {
			t.Errorf("received %d events before close, want %d", n, DefaultBuffer+DefaultReplay)
		}
	})
	t.Run("ending the context closes the channel", func(t *testing.T) {
		b := NewBus(nil)
		ctx, cancel := context.WithCancel(t.Context())
		ch, _ := b.Subscribe(ctx, 0)
		cancel()
		for range ch {
		}
	})
	t.Run("closing the bus closes every subscriber", func(t *testing.T) {
		b := NewBus(nil)
		ch, _ := b.Subscribe(t.Context(), 0)
		b.Close()
		b.Publish(Event{})
		for range ch {
			t.Error("received an event after close")
		}
	})
}

func TestStatusOf(t *testing.T) {
	if StatusOf(true) != StatusCompliant || StatusOf(false) != StatusNotCompliant {
		t.Error("StatusOf maps allow wrongly")
	}
}

func TestBusIDsGrowAcrossRestarts(t *testing.T) {
	clock := func() time.Time { return t0 }
	before := NewBusFrom(clock, RestartSafeFirstID(t0))
	for range 3 {
		before.Publish(Event{Kind: KindPolicyChanged})
	}
	lastSeen := before.LastID()
	before.Close()

	// The next run starts a minute later with an empty memory.
	after := NewBusFrom(clock, RestartSafeFirstID(t0.Add(time.Minute)))
	after.Publish(Event{Kind: KindComplianceChange, DeviceID: "a"})
	ch, complete := after.Subscribe(t.Context(), lastSeen)
	if complete {
		t.Error("a client resuming from the earlier run was told it missed nothing")
	}
	if e := <-ch; e.DeviceID != "a" || e.ID <= lastSeen {
		t.Errorf("replayed %+v; want the new run's event with an ID above %d", e, lastSeen)
	}
	if got := RestartSafeFirstID(time.Unix(0, 0)); got != 1 {
		t.Errorf("RestartSafeFirstID(epoch) = %d, want 1", got)
	}
}
