package watch

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postern-dev/postern/checks/host"
)

// Commands (and WMI queries) cannot be stat'ed like files: the settings
// poll re-runs them at every poll by default (Settings.CommandEvery is
// the poll's interval), so that a firewall switched off by command shows
// within one poll, as promised; what it saves on them is the parsing,
// encoding and hashing when their output did not change.

// answerKind is what kind of host question an answer recorded.
type answerKind int

const (
	askFile answerKind = iota
	askStat
	askGlob
	askReadDir
	askRegistry
	askRun
	askWMI
)

type question struct {
	kind answerKind
	// what is the path, pattern, registry key and name, or the command
	// line (NUL-separated), or the WMI namespace and query.
	what string
}

// answer is what the host said to one question at the last poll.
type answer struct {
	sum [sha256.Size]byte // of the answer (and its error)
	// For files: the stat taken before the read, and the bytes read,
	// handed out again while a new stat is the same.
	info     host.FileInfo
	statErr  bool
	data     []byte
	err      error
	infoSeen bool
	// For commands and WMI: the answer and when it was taken.
	out host.Output
	wmi []map[string]any
	at  time.Time
}

// pollHost sits between the settings poll and the host. It remembers the
// questions the cheap collectors asked and the answers, so that the next
// poll first re-asks only what is cheap to re-ask — a stat for each file
// read, a glob or directory listing, a registry value; a command or WMI
// query only every commandEvery — and runs the collectors (parsing,
// encoding, hashing) only when one of those answers changed. A file
// whose stat is unchanged is not read again.
type pollHost struct {
	host.Host
	now          func() time.Time
	commandEvery time.Duration

	mu      sync.Mutex
	answers map[question]*answer
	// asked collects the questions of the collection in progress; they
	// replace answers' keys when it ends, so that a question no longer
	// asked stops being re-asked.
	asked map[question]bool

	// files, when set, watches the directories of the files read and
	// stat'ed (inotify); dirty is set by its events. A file in a watched
	// directory is not even stat'ed while no event came.
	files *fileNotifier
	dirty atomic.Bool
	// fullAt is when every file was last stat'ed: at least every
	// fullStatEvery, whatever the notifications say, so that a change
	// inotify cannot see (a directory symlink retargeted, a parent
	// renamed) shows within that.
	fullAt time.Time
}

// fullStatEvery bounds how long a watched file goes without a stat.
const fullStatEvery = time.Minute

// notifyFiles has the directories of the files the collectors read
// watched by n, whose events must call markDirty.
func (p *pollHost) notifyFiles(n *fileNotifier) {
	p.mu.Lock()
	p.files = n
	p.mu.Unlock()
	p.dirty.Store(true)
}

// markDirty says a watched directory changed.
func (p *pollHost) markDirty() { p.dirty.Store(true) }

// watchRecorded watches the directories of the recorded file questions;
// a directory watched only now was not watched while its files were read,
// so the next poll stats everything.
func (p *pollHost) watchRecorded() {
	p.mu.Lock()
	n := p.files
	var dirs []string
	for q := range p.answers {
		if q.kind == askFile || q.kind == askStat {
			dirs = append(dirs, filepath.Dir(q.what))
		}
	}
	p.mu.Unlock()
	if n == nil {
		return
	}
	for _, d := range dirs {
		if _, added := n.watch(d); added {
			p.dirty.Store(true)
		}
	}
}

func newPollHost(h host.Host, commandEvery time.Duration, now func() time.Time) *pollHost {
	return &pollHost{Host: h, now: now, commandEvery: commandEvery, answers: map[question]*answer{}}
}

// unchanged re-asks the recorded questions that are cheap to re-ask and
// reports whether every answer is the same as at the last collection.
// With nothing recorded (the first poll) it reports false.
func (p *pollHost) unchanged(ctx context.Context) bool {
	p.mu.Lock()
	qs := make([]question, 0, len(p.answers))
	for q := range p.answers {
		qs = append(qs, q)
	}
	p.mu.Unlock()
	if len(qs) == 0 {
		return false
	}
	// Taken before the stats: an event during them marks the next poll.
	dirty := p.dirty.Swap(false)
	p.mu.Lock()
	files := p.files
	if now := p.now(); dirty || now.Sub(p.fullAt) >= fullStatEvery || now.Before(p.fullAt) {
		dirty, p.fullAt = true, now
	}
	p.mu.Unlock()
	quiet := func(q question, a *answer) bool {
		return files != nil && !dirty && !a.link() && files.watching(filepath.Dir(q.what))
	}
	for _, q := range qs {
		if ctx.Err() != nil {
			return false
		}
		p.mu.Lock()
		a := p.answers[q]
		p.mu.Unlock()
		switch q.kind {
		case askFile:
			if quiet(q, a) {
				continue
			}
			fi, err := p.Host.Stat(q.what)
			if a.link() || !sameStat(a, fi, err) {
				return false
			}
		case askRun, askWMI:
			if p.now().Sub(a.at) < p.commandEvery {
				continue
			}
			sum := p.ask(ctx, q)
			if sum != a.sum {
				return false
			}
		case askStat:
			if quiet(q, a) {
				continue
			}
			if p.ask(ctx, q) != a.sum {
				return false
			}
		default:
			if p.ask(ctx, q) != a.sum {
				return false
			}
		}
	}
	return true
}

// begin starts a collection: the questions it asks become the recorded
// ones when end is called.
func (p *pollHost) begin() {
	p.mu.Lock()
	p.asked = map[question]bool{}
	p.mu.Unlock()
}

func (p *pollHost) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for q := range p.answers {
		if !p.asked[q] {
			delete(p.answers, q)
		}
	}
	p.asked = nil
}

// ask asks q afresh, records the answer and returns its sum.
func (p *pollHost) ask(ctx context.Context, q question) [sha256.Size]byte {
	switch q.kind {
	case askStat:
		fi, err := p.Stat(q.what)
		return sumOf(fi, err)
	case askGlob:
		m, err := p.Glob(q.what)
		return sumOf(m, err)
	case askReadDir:
		m, err := p.ReadDir(q.what)
		return sumOf(m, err)
	case askRegistry:
		key, name, _ := strings.Cut(q.what, "\x00")
		v, err := p.Registry(key, name)
		return sumOf(v, err)
	case askRun:
		args := strings.Split(q.what, "\x00")
		out, err := p.run(ctx, args[0], args[1:]...)
		return sumOf(out, err)
	case askWMI:
		ns, query, _ := strings.Cut(q.what, "\x00")
		rows, err := p.wmi(ctx, ns, query)
		return sumOf(rows, err)
	}
	return [sha256.Size]byte{}
}

func (p *pollHost) record(q question, a *answer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.answers[q] = a
	if p.asked != nil {
		p.asked[q] = true
	}
}

func (p *pollHost) recorded(q question) *answer {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.asked != nil {
		p.asked[q] = true
	}
	return p.answers[q]
}

// ReadFile stats the file first and hands out the bytes read before
// while the stat is the same. A symbolic link is always read: its own
// stat says nothing about its target.
func (p *pollHost) ReadFile(path string) ([]byte, error) {
	q := question{askFile, path}
	fi, statErr := p.Host.Stat(path)
	if a := p.recorded(q); a != nil && !a.link() && sameStat(a, fi, statErr) {
		return a.data, a.err
	}
	b, err := p.Host.ReadFile(path)
	p.record(q, &answer{info: fi, statErr: statErr != nil, infoSeen: true, data: b, err: err, sum: sumOf(b, err)})
	return b, err
}

func (a *answer) link() bool { return a.infoSeen && a.info.Link != "" }

func sameStat(a *answer, fi host.FileInfo, err error) bool {
	if (err != nil) != a.statErr {
		return false
	}
	if err != nil {
		return true // still missing (or still unreadable)
	}
	return fi.Size == a.info.Size && fi.Mode == a.info.Mode && fi.ModTime.Equal(a.info.ModTime) && fi.Name == a.info.Name
}

func (p *pollHost) Stat(path string) (host.FileInfo, error) {
	fi, err := p.Host.Stat(path)
	p.record(question{askStat, path}, &answer{sum: sumOf(fi, err), info: fi, infoSeen: err == nil})
	return fi, err
}

func (p *pollHost) Glob(pattern string) ([]string, error) {
	m, err := p.Host.Glob(pattern)
	p.record(question{askGlob, pattern}, &answer{sum: sumOf(m, err)})
	return m, err
}

func (p *pollHost) ReadDir(path string) ([]string, error) {
	m, err := p.Host.ReadDir(path)
	p.record(question{askReadDir, path}, &answer{sum: sumOf(m, err)})
	return m, err
}

func (p *pollHost) Registry(key, name string) (host.RegistryValue, error) {
	v, err := p.Host.Registry(key, name)
	p.record(question{askRegistry, key + "\x00" + name}, &answer{sum: sumOf(v, err)})
	return v, err
}

// Run answers from the last run while it is younger than commandEvery.
func (p *pollHost) Run(ctx context.Context, name string, args ...string) (host.Output, error) {
	q := question{askRun, strings.Join(append([]string{name}, args...), "\x00")}
	if a := p.recorded(q); a != nil && p.now().Sub(a.at) < p.commandEvery {
		return a.out, a.err
	}
	return p.run(ctx, name, args...)
}

func (p *pollHost) run(ctx context.Context, name string, args ...string) (host.Output, error) {
	q := question{askRun, strings.Join(append([]string{name}, args...), "\x00")}
	out, err := p.Host.Run(ctx, name, args...)
	if ctx.Err() != nil || errors.Is(err, host.ErrTimeout) {
		// A timed-out answer says nothing about the setting; ask again
		// at the next poll.
		p.forget(q)
		return out, err
	}
	p.record(q, &answer{out: out, err: err, at: p.now(), sum: sumOf(out, err)})
	return out, err
}

// WMI answers from the last query while it is younger than commandEvery.
func (p *pollHost) WMI(ctx context.Context, namespace, query string) ([]map[string]any, error) {
	q := question{askWMI, namespace + "\x00" + query}
	if a := p.recorded(q); a != nil && p.now().Sub(a.at) < p.commandEvery {
		return a.wmi, a.err
	}
	return p.wmi(ctx, namespace, query)
}

func (p *pollHost) wmi(ctx context.Context, namespace, query string) ([]map[string]any, error) {
	q := question{askWMI, namespace + "\x00" + query}
	rows, err := p.Host.WMI(ctx, namespace, query)
	if ctx.Err() != nil || errors.Is(err, host.ErrTimeout) {
		p.forget(q)
		return rows, err
	}
	p.record(q, &answer{wmi: rows, err: err, at: p.now(), sum: sumOf(rows, err)})
	return rows, err
}

func (p *pollHost) forget(q question) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.answers, q)
}

// sumOf hashes an answer and its error. Errors count by their text: a
// file that went from unreadable to missing is a change.
func sumOf(v any, err error) [sha256.Size]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%#v\x00", v)
	if err != nil {
		fmt.Fprintf(h, "error:%v", err)
	}
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}
