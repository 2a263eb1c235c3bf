package host_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/internal/clock"
)

func TestNowIsTheRecordingTimeOfAReplayedSnapshot(t *testing.T) {
	recorded := time.Date(2026, 11, 23, 16, 0, 0, 0, time.UTC)
	f := host.NewFake("linux", "amd64")
	f.SetMeta(host.SnapshotMeta{FormatVersion: host.SnapshotVersion, GOOS: "linux", Arch: "amd64", RecordedAt: recorded})
	dir := filepath.Join(t.TempDir(), "snap")
	if err := f.Save(dir); err != nil {
		t.Fatal(err)
	}
	r, err := host.OpenSnapshot(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := host.Now(r); !got.Equal(recorded) {
		t.Errorf("replayed: got %v, want %v", got, recorded)
	}
	t.Run("a host that is not a snapshot answers with the wall clock", func(t *testing.T) {
		before := clock.Now()
		if got := host.Now(host.NewFake("linux", "amd64")); got.Before(before.Add(-time.Second)) {
			t.Errorf("got %v, want about %v", got, before)
		}
	})
	t.Run("a snapshot without a recording time answers with the wall clock", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "epoch")
		if err := host.NewFake("linux", "amd64").Save(dir); err != nil {
			t.Fatal(err)
		}
		r, err := host.OpenSnapshot(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := host.Now(r); got.Year() < 2026 {
			t.Errorf("got %v", got)
		}
	})
}
