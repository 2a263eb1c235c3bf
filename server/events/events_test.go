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

func TestBusWithAuditIDs(t *testing.T) {
	t.Run("set IDs are kept, and a repeated or older one is dropped", func(t *testing.T) {
		b := NewBus(nil)
		ch, _ := b.Subscribe(t.Context(), 0)
		for _, id := range []uint64{5, 9, 9, 7, 12} {
			b.Publish(Event{ID: id})
		}
		if diff := cmp.Diff([]uint64{5, 9, 12}, ids(ch, 3)); diff != "" {
			t.Errorf("ids (-want +got):\n%s", diff)
		}
		if len(ch) != 0 {
			t.Errorf("%d more events were delivered", len(ch))
		}
	})
	t.Run("rows that were not events advance the position clients may resume from", func(t *testing.T) {
		b := NewBus(nil)
		b.Publish(Event{ID: 5})
		b.Advance(8)
		if b.LastID() != 8 {
			t.Errorf("LastID = %d, want 8", b.LastID())
		}
		if _, ok := b.Subscribe(t.Context(), 8); !ok {
			t.Error("resuming from the reset position reported a gap")
		}
		if _, ok := b.Subscribe(t.Context(), 9); ok {
			t.Error("resuming from beyond the position reported no gap")
		}
	})
	prime := func(floor uint64, head uint64, evIDs ...uint64) *Bus {
		b := NewBus(nil)
		var evs []Event
		for _, id := range evIDs {
			evs = append(evs, Event{ID: id, EventTime: t0})
		}
		b.Prime(floor, evs, head)
		return b
	}
	tests := []struct {
		name     string
		bus      *Bus
		after    uint64
		wantOK   bool
		wantIDs  []uint64
		wantLast uint64
	}{
		{"a client that saw an event of the previous run gets the later ones", prime(3, 20, 4, 10, 15), 10, true, []uint64{15}, 20},
		{"a client at the floor missed nothing that is not retained", prime(3, 20, 4, 10, 15), 3, true, []uint64{4, 10, 15}, 20},
		{"a client between two events gets those after it", prime(3, 20, 4, 10, 15), 12, true, []uint64{15}, 20},
		{"a client older than the floor is told it missed some", prime(3, 20, 4, 10, 15), 2, false, []uint64{4, 10, 15}, 20},
		{"a client ahead of the log (another database, old IDs) is told so", prime(3, 20, 4, 10, 15), 1_740_830_400_000_000, false, nil, 20},
		{"an empty log takes any ID up to its tail", prime(0, 7), 7, true, nil, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch, ok := tt.bus.Subscribe(t.Context(), tt.after)
			if ok != tt.wantOK {
				t.Errorf("ok = %v, want %v", ok, tt.wantOK)
			}
			if diff := cmp.Diff(tt.wantIDs, ids(ch, len(ch))); diff != "" {
				t.Errorf("replayed ids (-want +got):\n%s", diff)
			}
			if got := tt.bus.LastID(); got != tt.wantLast {
				t.Errorf("LastID = %d, want %d", got, tt.wantLast)
			}
		})
	}
	t.Run("a prime with more events than the memory keeps the newest and moves the floor", func(t *testing.T) {
		var evIDs []uint64
		for i := range DefaultReplay + 5 {
			evIDs = append(evIDs, uint64(2*i+2))
		}
		b := prime(0, 0, evIDs...)
		if _, ok := b.Subscribe(t.Context(), evIDs[4]); !ok {
			t.Error("the newest event left out is where the complete range starts")
		}
		if _, ok := b.Subscribe(t.Context(), evIDs[3]); ok {
			t.Error("an older client was told it missed nothing")
		}
		if b.LastID() != evIDs[len(evIDs)-1] {
			t.Errorf("LastID = %d", b.LastID())
		}
	})
}
