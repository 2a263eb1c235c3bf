package checktest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/host"
)

// fatalRecorder stands in for a test: Fatalf records the first message
// and stops the goroutine, as testing's does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// fatalOf runs fn with a recorder in its own goroutine and returns what
// it failed with ("" when it did not).
func fatalOf(t *testing.T, fn func(tb testing.TB)) string {
	r := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r)
	}()
	<-done
	return r.msg
}

func TestSeedFiles(t *testing.T) {
	got := SeedFiles(t, "linux", "sam")
	if diff := cmp.Diff([][]byte{[]byte("recorded output\n")}, got); diff != "" {
		t.Errorf("seeds (-want +got):\n%s", diff)
	}
	if msg := fatalOf(t, func(tb testing.TB) { SeedFiles(tb, "linux", "missing") }); !strings.Contains(msg, "no seeds for testdata/linux/missing*") {
		t.Errorf("a prefix without files failed with %q", msg)
	}
	if msg := fatalOf(t, func(tb testing.TB) { SeedFiles(tb, "", "lin") }); !strings.Contains(msg, "no regular file") {
		t.Errorf("a prefix matching only a folder failed with %q", msg)
	}
}

func TestLineCount(t *testing.T) {
	for in, want := range map[string]int{"": 1, "a": 1, "a\n": 2, "a\r\nb\nc": 3} {
		if got := LineCount([]byte(in)); got != want {
			t.Errorf("LineCount(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestCheckResult(t *testing.T) {
	tests := []struct {
		name     string
		r        checks.Result
		statuses []checks.Status
		wantFail string // part of the failure; "" for none
	}{
		{"a pass with a summary is accepted", checks.Result{Status: checks.StatusPass, Summary: "on"}, nil, ""},
		{"an unknown with a reason is accepted", checks.Unknown("no tool"), nil, ""},
		{"not applicable is accepted when no statuses are named", checks.Result{Status: checks.StatusNotApplicable, Summary: "n/a"}, nil, ""},
		{"a made-up status fails", checks.Result{Status: "maybe", Summary: "x"}, nil, `status "maybe" is not a status`},
		{"a blank summary fails", checks.Result{Status: checks.StatusFail, Summary: " "}, nil, "empty summary"},
		{"an unknown without a reason fails", checks.Unknown(" "), nil, "unknown without a reason"},
		{"an unknown with a bare prefix fails", checks.Result{Status: checks.StatusUnknown, Summary: "could not be determined:"}, nil, "unknown without a reason"},
		{"a status outside the named ones fails", checks.Result{Status: checks.StatusNotApplicable, Summary: "n/a"}, []checks.Status{checks.StatusPass, checks.StatusFail, checks.StatusUnknown}, "is not one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := fatalOf(t, func(tb testing.TB) { CheckResult(tb, tt.r, tt.statuses...) })
			if tt.wantFail == "" && msg != "" || !strings.Contains(msg, tt.wantFail) {
				t.Errorf("failed with %q, want %q", msg, tt.wantFail)
			}
		})
	}
}

func TestCollectEval(t *testing.T) {
	h := host.NewFake("darwin", "arm64")
	var got checks.EvalInput
	evaluate := func(in checks.EvalInput) checks.Result {
		got = in
		return checks.Result{Status: checks.StatusPass, Summary: "ok"}
	}
	t.Run("facts reach the evaluator as JSON with the host's OS", func(t *testing.T) {
		collect := func(context.Context, host.Host) (any, error) { return facts{Enabled: true}, nil }
		r := CollectEval(t, h, collect, evaluate, checks.EvalInput{OS: "linux", Thresholds: 7})
		if r.Status != checks.StatusPass {
			t.Errorf("status %s, want the evaluator's pass", r.Status)
		}
		if got.OS != "darwin" || string(got.Facts) != `{"enabled":true}` || got.Thresholds != 7 {
			t.Errorf("evaluated %+v", got)
		}
	})
	t.Run("a collector error is unknown with its reason", func(t *testing.T) {
		collect := func(context.Context, host.Host) (any, error) { return nil, errors.New("no tool") }
		if diff := cmp.Diff(checks.Unknown("no tool"), CollectEval(t, h, collect, evaluate, checks.EvalInput{})); diff != "" {
			t.Errorf("result (-want +got):\n%s", diff)
		}
	})
}

func TestLongLine(t *testing.T) {
	s := LongLine("# ")
	if len(s) <= 4<<20 || !strings.HasPrefix(s, "# ") || strings.ContainsAny(s, "\r\n") {
		t.Errorf("LongLine gave %d bytes starting %q", len(s), s[:4])
	}
}

func TestCollectFacts(t *testing.T) {
	h := host.NewFake("linux", "amd64")
	t.Run("facts come back typed with their JSON", func(t *testing.T) {
		collect := func(context.Context, host.Host) (any, error) { return &facts{Name: "ufw"}, nil }
		b, f, ok := CollectFacts[facts](t, h, collect)
		if !ok || string(b) != `{"enabled":false,"name":"ufw"}` || f.Name != "ufw" {
			t.Errorf("got %s, %+v, %t", b, f, ok)
		}
	})
	t.Run("a collector error with a reason is not ok", func(t *testing.T) {
		collect := func(context.Context, host.Host) (any, error) { return nil, errors.New("no tool") }
		if _, _, ok := CollectFacts[facts](t, h, collect); ok {
			t.Error("ok after a collector error")
		}
	})
	t.Run("a collector error without a reason fails the test", func(t *testing.T) {
		collect := func(context.Context, host.Host) (any, error) { return nil, errors.New("") }
		msg := fatalOf(t, func(tb testing.TB) { CollectFacts[facts](tb, h, collect) })
		if !strings.Contains(msg, "without a reason") {
			t.Errorf("failed with %q", msg)
		}
	})
}
