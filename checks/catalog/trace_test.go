package catalog_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

var trace = flag.Bool("trace-fixtures", false, "print, per control, the host questions each fixture leaves unanswered")

// tracer wraps a Host and notes every question answered with an error, so
// that a fixture's author sees what a collector looked for and did not find.
type tracer struct {
	host.Host
	mu     sync.Mutex
	missed map[string]bool
}

func (t *tracer) note(q string, err error) {
	if err == nil {
		return
	}
	kind := "error"
	switch {
	case errors.Is(err, host.ErrNotFound):
		kind = "not_found"
	case errors.Is(err, host.ErrNotSupported):
		kind = "not_supported"
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.missed[kind+" "+q] = true
}

func (t *tracer) ReadFile(p string) ([]byte, error) {
	b, err := t.Host.ReadFile(p)
	t.note("read "+p, err)
	return b, err
}

func (t *tracer) Stat(p string) (host.FileInfo, error) {
	i, err := t.Host.Stat(p)
	t.note("stat "+p, err)
	return i, err
}

func (t *tracer) Glob(p string) ([]string, error) {
	m, err := t.Host.Glob(p)
	t.note("glob "+p, err)
	return m, err
}

func (t *tracer) ReadDir(p string) ([]string, error) {
	m, err := t.Host.ReadDir(p)
	t.note("readdir "+p, err)
	return m, err
}

func (t *tracer) Run(ctx context.Context, name string, args ...string) (host.Output, error) {
	o, err := t.Host.Run(ctx, name, args...)
	t.note(fmt.Sprintf("run %q", append([]string{name}, args...)), err)
	return o, err
}

func (t *tracer) Registry(key, name string) (host.RegistryValue, error) {
	v, err := t.Host.Registry(key, name)
	t.note("registry "+key+" "+name, err)
	return v, err
}

func (t *tracer) WMI(ctx context.Context, ns, q string) ([]map[string]any, error) {
	r, err := t.Host.WMI(ctx, ns, q)
	t.note("wmi "+ns+" "+q, err)
	return r, err
}

// traceControls collects each control alone on h and logs its verdict and
// the questions h could not answer.
func traceControls(t *testing.T, h host.Host, name string) {
	at := recordedAt(h)
	pol := checks.DefaultPolicy()
	for _, c := range checks.Registered() {
		tr := &tracer{Host: h, missed: map[string]bool{}}
		var res checks.Result
		facts, err := c.Collect(context.Background(), tr)
		if err != nil {
			res = checks.Result{Status: checks.StatusUnknown, Summary: err.Error()}
		} else {
			b, _ := json.Marshal(facts)
			res = c.Evaluate(checks.EvalInput{OS: h.GOOS(), Facts: b, Thresholds: pol.Control(c.ID).Thresholds, CollectedAt: at, Now: at})
		}
		var qs []string
		for q := range tr.missed {
			qs = append(qs, q)
		}
		sort.Strings(qs)
		t.Logf("%s %s: %s: %s\n\t%s", name, c.ID, res.Status, res.Summary, strings.Join(qs, "\n\t"))
	}
}

func TestTraceFixtures(t *testing.T) {
	if !*trace {
		t.Skip("run with -trace-fixtures to see what each fixture leaves unanswered")
	}
	for _, name := range fixtureNames {
		if _, err := os.Stat(fixtureDir(name)); err != nil {
			t.Logf("%s: %v", name, err)
			continue
		}
		traceControls(t, openFixture(t, name), name)
	}
}
