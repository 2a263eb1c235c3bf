package events

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/store"
)

func TestFeed(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, tok, _ := store.NewEnrollToken([32]byte{}, time.Hour, "clinic-a", "alice", t0)
	st.CreateToken(ctx, tok)
	if _, err := st.Enroll(ctx, tok.Hash, store.Device{ID: "dev", CertSHA256: "sha-dev", CertNotAfter: t0.Add(time.Hour)}, t0); err != nil {
		t.Fatal(err)
	}
	log := audit.New(st, func() time.Time { return t0 }, nil)
	appendRow := func(kind, dev string, details any) uint64 {
		t.Helper()
		r, err := log.Append(ctx, audit.Entry{Actor: audit.ActorServer, Kind: kind, DeviceID: dev, Details: details})
		if err != nil {
			t.Fatal(err)
		}
		return r.Seq
	}
	appendRow(audit.KindTokenCreated, "", nil)
	// A row written before the details named the device and the time.
	old := appendRow(audit.KindDecisionChanged, "dev", map[string]any{"previous_allow": true, "allow": false,
		"previous_reasons": []string{}, "reasons": []string{"report_stale"}, "policy_version": 2})
	pol := appendRow(audit.KindPolicyApplied, "", map[string]any{"version": 3, "hash": "abc"})
	later := t0.Add(time.Minute)
	cur := appendRow(audit.KindDecisionChanged, "dev", ChangeDetails{PreviousAllow: false, Allow: true, PreviousReasons: []string{"report_stale"},
		Reasons: []string{}, PolicyVersion: 3, CertSHA256: "sha-new", Org: "clinic-b", ReasonAdmin: "the device meets the policy", EventTime: later})
	want := []Event{
		{ID: old, Kind: KindComplianceChange, DeviceID: "dev", CertSHA256: "sha-dev", Org: "clinic-a", PreviousStatus: StatusCompliant,
			CurrentStatus: StatusNotCompliant, ReasonCodes: []string{"report_stale"}, PolicyVersion: 2, EventTime: t0},
		{ID: pol, Kind: KindPolicyChanged, PolicyVersion: 3, EventTime: t0},
		{ID: cur, Kind: KindComplianceChange, DeviceID: "dev", CertSHA256: "sha-new", Org: "clinic-b", PreviousStatus: StatusNotCompliant,
			CurrentStatus: StatusCompliant, ReasonAdmin: "the device meets the policy", PolicyVersion: 3, EventTime: later},
	}

	bus := NewBus(nil)
	defer bus.Close()
	f := NewFeed(st, bus, nil)
	if err := f.Prime(ctx); err != nil {
		t.Fatal(err)
	}
	t.Run("a primed bus replays the log's events to a client resuming from before them", func(t *testing.T) {
		ch, ok := bus.Subscribe(t.Context(), 1)
		if !ok {
			t.Error("ok = false for an ID the log covers")
		}
		var got []Event
		for len(ch) > 0 {
			got = append(got, <-ch)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		if bus.LastID() != cur {
			t.Errorf("LastID = %d, want %d", bus.LastID(), cur)
		}
	})
	var seen []string
	f.OnEvent(func(e Event) { seen = append(seen, e.DeviceID) })
	t.Run("sync publishes new events once and moves past other rows", func(t *testing.T) {
		ch, _ := bus.Subscribe(t.Context(), 0)
		next := appendRow(audit.KindDecisionChanged, "dev", ChangeDetails{Allow: false, PreviousAllow: true, Reasons: []string{"device_revoked"}})
		tail := appendRow(audit.KindAPIKeyCreated, "", nil)
		for range 2 {
			if err := f.Sync(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if len(ch) != 1 {
			t.Fatalf("%d events published, want 1", len(ch))
		}
		if e := <-ch; e.ID != next || e.CertSHA256 != "sha-dev" || e.EventTime.IsZero() {
			t.Errorf("event %+v", e)
		}
		if bus.LastID() != tail {
			t.Errorf("LastID = %d, want the tail %d", bus.LastID(), tail)
		}
		if diff := cmp.Diff([]string{"dev"}, seen); diff != "" {
			t.Errorf("OnEvent saw devices (-want +got):\n%s", diff)
		}
	})
	t.Run("read reports rows pruned after the position", func(t *testing.T) {
		if _, err := st.PruneAudit(ctx, t0.Add(time.Second), t0); err != nil {
			t.Fatal(err)
		}
		last := appendRow(audit.KindPolicyApplied, "", map[string]any{"version": 4})
		evs, got, gap, err := f.Read(ctx, old, 10)
		if err != nil {
			t.Fatal(err)
		}
		if !gap || got != last || len(evs) != 1 || evs[0].PolicyVersion != 4 {
			t.Errorf("Read = %+v, %d, gap %v", evs, got, gap)
		}
		if _, _, gap, _ := f.Read(ctx, last, 10); gap {
			t.Error("a read at the tail reported a gap")
		}
	})
}
