package decision

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/server/store"
)

// fleetCountingStore counts bulk and single posture reads.
type fleetCountingStore struct {
	store.Store
	bulk, single int
}

func (s *fleetCountingStore) Postures(ctx context.Context) ([]store.Posture, error) {
	s.bulk++
	return s.Store.Postures(ctx)
}

func (s *fleetCountingStore) Posture(ctx context.Context, id string) (store.Posture, error) {
	s.single++
	return s.Store.Posture(ctx, id)
}

func fleetIDs(t *testing.T, ps []store.Posture) []string {
	t.Helper()
	var out []string
	for _, p := range ps {
		out = append(out, p.Device.ID)
		if p.Latest != nil && p.Latest.Body != nil {
			t.Errorf("%s: the fleet keeps a report body in memory", p.Device.ID)
		}
	}
	return out
}

func TestFleetReadsTheStoreOnceATTLAndWrittenDevicesAgain(t *testing.T) {
	e, cli, clk := cachedEngine(t)
	for _, id := range []string{"b", "d", "f"} {
		e.enroll(id, "")
		e.report(id)
	}
	cs := &fleetCountingStore{Store: e.st}
	pc := e.postures
	ctx := context.Background()
	fleet := func() []store.Posture {
		t.Helper()
		ps, err := pc.Fleet(ctx, cs)
		if err != nil {
			t.Fatal(err)
		}
		return ps
	}
	fleet()
	t.Run("a second listing within the TTL reads nothing", func(t *testing.T) {
		fleet()
		if cs.bulk != 1 || cs.single != 0 {
			t.Errorf("%d bulk and %d single reads, want 1 and 0", cs.bulk, cs.single)
		}
	})
	t.Run("a device enrolled and one reported through this server are read alone, in order", func(t *testing.T) {
		e.enroll("c", "")
		e.report("d", checks.Firewall)
		ps := fleet()
		if diff := cmp.Diff([]string{"b", "c", "d", "f"}, fleetIDs(t, ps)); diff != "" {
			t.Errorf("devices (-want +got):\n%s", diff)
		}
		if cs.bulk != 1 || cs.single != 2 {
			t.Errorf("%d bulk and %d single reads, want 1 and 2", cs.bulk, cs.single)
		}
		if got := ps[2].Latest.Sequence; got != e.seq {
			t.Errorf("d's report %d, want the new %d", got, e.seq)
		}
		dec, err := e.eng.All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if dec["d"].Allow {
			t.Error("the new failing report is not decided")
		}
	})
	t.Run("a write by another process shows once the TTL has passed", func(t *testing.T) {
		if err := cli.Revoke(ctx, "b", e.now); err != nil {
			t.Fatal(err)
		}
		if fleet()[0].Device.Revoked() {
			t.Fatal("the cache read the store within its TTL")
		}
		clk.Add(DefaultPostureTTL)
		if !fleet()[0].Device.Revoked() {
			t.Error("the revocation is not read after the TTL")
		}
		if cs.bulk != 2 {
			t.Errorf("%d bulk reads, want 2", cs.bulk)
		}
	})
	t.Run("past the limit of single reads the fleet is read in bulk", func(t *testing.T) {
		for i := range maxWritten + 1 {
			pc.Forget(fmt.Sprint("x", i))
		}
		fleet()
		if cs.bulk != 3 {
			t.Errorf("%d bulk reads, want 3", cs.bulk)
		}
	})
	t.Run("without a posture cache every listing reads the store", func(t *testing.T) {
		var none *PostureCache
		before := cs.bulk
		for range 2 {
			if _, err := none.Fleet(ctx, cs); err != nil {
				t.Fatal(err)
			}
		}
		if cs.bulk != before+2 {
			t.Errorf("%d bulk reads, want %d", cs.bulk, before+2)
		}
	})
}
