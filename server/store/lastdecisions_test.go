package store

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLastDecisions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		place := b.place(t)
		s := b.openAt(t, place)
		enrollTest(t, s, "a")
		enrollTest(t, s, "b")
		first := []LastDecision{
			{DeviceID: "a", Allow: true, DecidedAt: t0},
			{DeviceID: "b", Allow: false, Reasons: "control_failed:firewall", DecidedAt: t0},
			// A device removed before the batch was written is skipped, and
			// the rest of the batch is kept.
			{DeviceID: "gone", Allow: true, DecidedAt: t0},
		}
		if err := s.PutLastDecisions(t.Context(), first); err != nil {
			t.Fatal(err)
		}
		later := t0.Add(time.Minute)
		if err := s.PutLastDecisions(t.Context(), []LastDecision{{DeviceID: "a", Allow: false, Reasons: "report_stale", DecidedAt: later}}); err != nil {
			t.Fatal(err)
		}
		s.Close()
		got, err := b.openAt(t, place).LastDecisions(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		want := []LastDecision{
			{DeviceID: "a", Allow: false, Reasons: "report_stale", DecidedAt: later},
			{DeviceID: "b", Allow: false, Reasons: "control_failed:firewall", DecidedAt: t0},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("after reopening (-want +got):\n%s", diff)
		}
	})
}
