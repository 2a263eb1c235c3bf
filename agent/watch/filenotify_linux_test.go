package watch

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks/host"
	"github.com/postern-dev/postern/checks/host/live"
)

// statHost counts stats, on this machine's files.
type statHost struct {
	host.Host
	mu    sync.Mutex
	stats int
}

func (s *statHost) Stat(p string) (host.FileInfo, error) {
	s.mu.Lock()
	s.stats++
	s.mu.Unlock()
	return s.Host.Stat(p)
}

func (s *statHost) take() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.stats
	s.stats = 0
	return n
}

func TestPollHostWithInotify(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	conf := filepath.Join(dir, "ufw.conf")
	if err := os.WriteFile(conf, []byte("ENABLED=yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sh := &statHost{Host: live.New()}
	clk := &stepClock{t: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
	p := newPollHost(sh, time.Minute, clk.Now)
	wake := make(chan struct{}, 1)
	n, err := newFileNotifier(ctx, wake)
	if err != nil {
		t.Fatal(err)
	}
	defer n.close()
	p.notifyFiles(n)
	collect := func() {
		p.begin()
		defer p.end()
		if _, err := p.ReadFile(conf); err != nil {
			t.Fatal(err)
		}
	}
	collect()
	p.watchRecorded()
	if !n.watching(dir) {
		t.Fatal("the file's directory is not watched")
	}
	sh.take()

	t.Run("the first poll after the watch was added stats, as the file was read unwatched", func(t *testing.T) {
		if !p.unchanged(ctx) || sh.take() == 0 {
			t.Error("want a stat and no change")
		}
	})
	t.Run("with no event a poll stats nothing", func(t *testing.T) {
		for range 3 {
			clk.t = clk.t.Add(15 * time.Second)
			if !p.unchanged(ctx) {
				t.Fatal("a change without one")
			}
		}
		if got := sh.take(); got != 0 {
			t.Errorf("%d stats; want none", got)
		}
	})
	t.Run("every minute the files are stat'ed whatever the notifications say", func(t *testing.T) {
		clk.t = clk.t.Add(time.Minute)
		if !p.unchanged(ctx) || sh.take() == 0 {
			t.Error("want a stat and no change")
		}
	})
	t.Run("a write wakes the poll, which finds the change", func(t *testing.T) {
		if err := os.WriteFile(conf, []byte("ENABLED=no\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		select {
		case <-wake:
		case <-time.After(10 * time.Second):
			t.Fatal("no inotify event")
		}
		p.markDirty()
		if p.unchanged(ctx) {
			t.Error("the changed file was not noticed")
		}
	})
	t.Run("a file replaced by rename is noticed", func(t *testing.T) {
		collect()
		tmp := filepath.Join(dir, "ufw.conf.new")
		if err := os.WriteFile(tmp, []byte("ENABLED=yes, longer\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		// Drain the events of collecting and writing the new file.
		time.Sleep(50 * time.Millisecond)
		select {
		case <-wake:
		default:
		}
		p.dirty.Store(false)
		if err := os.Rename(tmp, conf); err != nil {
			t.Fatal(err)
		}
		select {
		case <-wake:
		case <-time.After(10 * time.Second):
			t.Fatal("no inotify event")
		}
		p.markDirty()
		if p.unchanged(ctx) {
			t.Error("the replaced file was not noticed")
		}
	})
}
