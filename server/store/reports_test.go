package store

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
)

func TestFailuresFollowReports(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.openNew(t).(*sqlStore)
		enrollTest(t, s, "dev")
		at := func(seq uint64) time.Time { return t0.Add(time.Duration(seq) * time.Minute) }
		steps := []struct {
			name  string
			setup string // SQL run before the report
			seq   uint64
			fail  []checks.ControlID
			want  map[checks.ControlID]time.Time
		}{
			{name: "a first failure is recorded", seq: 1, fail: []checks.ControlID{checks.Firewall},
				want: map[checks.ControlID]time.Time{checks.Firewall: at(1)}},
			{name: "the same failure keeps its first time", seq: 2, fail: []checks.ControlID{checks.Firewall},
				want: map[checks.ControlID]time.Time{checks.Firewall: at(1)}},
			{name: "the same set in another order keeps its first times", seq: 3, fail: []checks.ControlID{checks.Antivirus, checks.Firewall},
				want: map[checks.ControlID]time.Time{checks.Firewall: at(1), checks.Antivirus: at(3)}},
			{name: "a reordered repeat changes nothing", seq: 4, fail: []checks.ControlID{checks.Firewall, checks.Antivirus},
				want: map[checks.ControlID]time.Time{checks.Firewall: at(1), checks.Antivirus: at(3)}},
			{name: "a passing report clears every failure", seq: 5, want: nil},
			{name: "a device from before the failing column is resynchronised",
				setup: `INSERT INTO control_failures (device_id, control_id, first_failed_at) VALUES ('dev', 'screen_lock', 1);
					UPDATE devices SET failing = '*' WHERE id = 'dev'`,
				seq: 6, want: nil},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				if st.setup != "" {
					if _, err := s.w.ExecContext(ctx, st.setup); err != nil {
						t.Fatal(err)
					}
				}
				in := ingest(st.seq, st.name, st.fail...)
				if _, err := s.IngestReport(ctx, in); err != nil {
					t.Fatal(err)
				}
				p, err := s.Posture(ctx, "dev")
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(st.want, p.FirstFailed); diff != "" {
					t.Errorf("first failed (-want +got):\n%s", diff)
				}
			})
		}
	})
}

func TestDeviceInfoFollowsReports(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := b.openNew(t)
		enrollTest(t, s, "dev")
		steps := []struct {
			name string
			info checks.Device
		}{
			{"the first report describes the device", checks.Device{Hostname: "laptop", OS: "windows", OSVersion: "10.0.22631"}},
			{"an unchanged description stays", checks.Device{Hostname: "laptop", OS: "windows", OSVersion: "10.0.22631"}},
			{"an upgrade is recorded", checks.Device{Hostname: "laptop", OS: "windows", OSVersion: "10.0.26100"}},
		}
		for i, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				in := ingest(uint64(i+1), st.name)
				in.Info = st.info
				if _, err := s.IngestReport(ctx, in); err != nil {
					t.Fatal(err)
				}
				d, err := s.Device(ctx, "dev")
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(st.info, d.Info); diff != "" {
					t.Errorf("device info (-want +got):\n%s", diff)
				}
				if !d.LastSeenAt.Equal(in.ReceivedAt) {
					t.Errorf("last seen %v, want %v", d.LastSeenAt, in.ReceivedAt)
				}
			})
		}
	})
}
