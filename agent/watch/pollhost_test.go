package watch

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks/host"
)

// tallyHost counts the host questions that cost something: file reads
// and commands.
type tallyHost struct {
	host.Host
	mu          sync.Mutex
	reads, runs int
}

func (c *tallyHost) ReadFile(p string) ([]byte, error) {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
	return c.Host.ReadFile(p)
}

func (c *tallyHost) Run(ctx context.Context, n string, a ...string) (host.Output, error) {
	c.mu.Lock()
	c.runs++
	c.mu.Unlock()
	return c.Host.Run(ctx, n, a...)
}

func (c *tallyHost) take() (reads, runs int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	reads, runs, c.reads, c.runs = c.reads, c.runs, 0, 0
	return reads, runs
}

type stepClock struct{ t time.Time }

func (c *stepClock) Now() time.Time { return c.t }

func TestPollHost(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	conf := "/etc/ufw/ufw.conf"
	fake := host.NewFake("linux", "amd64").
		AddFile(conf, []byte("ENABLED=yes\n")).
		AddStat(conf, host.FileInfo{Name: "ufw.conf", Size: 12, Mode: 0o644, ModTime: t0}, nil).
		AddRun([]string{"/usr/sbin/nft", "list", "ruleset"}, host.Output{Stdout: []byte("table inet filter {}")}, nil)
	tally := &tallyHost{Host: fake}
	clk := &stepClock{t: t0}
	p := newPollHost(tally, time.Minute, clk.Now)
	collect := func() {
		p.begin()
		defer p.end()
		p.ReadFile(conf)
		p.Run(ctx, "/usr/sbin/nft", "list", "ruleset")
	}

	if p.unchanged(ctx) {
		t.Fatal("the first poll, with nothing recorded, counted as unchanged")
	}
	collect()
	tally.take()

	t.Run("an unchanged poll reads no file and runs no command", func(t *testing.T) {
		clk.t = clk.t.Add(15 * time.Second)
		if !p.unchanged(ctx) {
			t.Error("nothing changed, yet the poll says it did")
		}
		if reads, runs := tally.take(); reads != 0 || runs != 0 {
			t.Errorf("%d reads and %d commands, want none", reads, runs)
		}
	})
	t.Run("a file whose stat changed counts as changed and is read again", func(t *testing.T) {
		fake.AddFile(conf, []byte("ENABLED=no\n"))
		fake.AddStat(conf, host.FileInfo{Name: "ufw.conf", Size: 11, Mode: 0o644, ModTime: t0.Add(time.Minute)}, nil)
		if p.unchanged(ctx) {
			t.Fatal("the changed file went unnoticed")
		}
		collect()
		if reads, _ := tally.take(); reads != 1 {
			t.Errorf("%d reads, want 1", reads)
		}
		b, _ := p.ReadFile(conf)
		if string(b) != "ENABLED=no\n" {
			t.Errorf("read %q, want the new content", b)
		}
		if reads, _ := tally.take(); reads != 0 {
			t.Errorf("an unchanged stat was read again (%d reads)", reads)
		}
	})
	t.Run("a command is re-run only once its answer is older than commandEvery", func(t *testing.T) {
		fake.AddRun([]string{"/usr/sbin/nft", "list", "ruleset"}, host.Output{Stdout: []byte("table inet filter { chain input {} }")}, nil)
		clk.t = clk.t.Add(30 * time.Second)
		if !p.unchanged(ctx) {
			t.Error("a command younger than commandEvery was re-run and compared")
		}
		clk.t = clk.t.Add(time.Minute)
		if p.unchanged(ctx) {
			t.Error("the changed command output went unnoticed after commandEvery")
		}
		if _, runs := tally.take(); runs != 1 {
			t.Errorf("%d commands run, want 1", runs)
		}
	})
	t.Run("a symbolic link is always read", func(t *testing.T) {
		link := "/etc/link.conf"
		fake.AddFile(link, []byte("x")).AddStat(link, host.FileInfo{Name: "link.conf", Mode: 0o777, Link: "/etc/target", ModTime: t0}, nil)
		p.ReadFile(link)
		p.ReadFile(link)
		if reads, _ := tally.take(); reads != 2 {
			t.Errorf("%d reads, want 2", reads)
		}
	})
}
