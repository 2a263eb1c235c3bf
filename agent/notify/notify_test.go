package notify

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/postern-dev/postern/agent/allowcmd"
	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/consoleuser"
)

// fakeRunner records the commands it is asked to run.
type fakeRunner struct {
	calls [][]string
	err   error
}

func (f *fakeRunner) Run(_ context.Context, p allowcmd.Program, args ...string) ([]byte, error) {
	f.calls = append(f.calls, append([]string{string(p)}, args...))
	return nil, f.err
}

var alice = consoleuser.User{Name: "alice", ID: "1000", SessionType: "wayland"}

func verdicts(failing ...string) []checks.Verdict {
	vs := []checks.Verdict{{ID: "firewall", Status: checks.StatusPass, Title: "Firewall"}}
	for _, id := range failing {
		vs = append(vs, checks.Verdict{ID: checks.ControlID(id), Status: checks.StatusFail, Title: "Title " + id, Remediation: "Fix " + id + "."})
	}
	return vs
}

func TestObserve(t *testing.T) {
	tests := []struct {
		name   string
		cycles [][]checks.Verdict
		want   int
	}{
		{"a compliant laptop is never notified", [][]checks.Verdict{verdicts(), verdicts()}, 0},
		{"the same failures are announced once", [][]checks.Verdict{verdicts("screen_lock"), verdicts("screen_lock"), verdicts("screen_lock")}, 1},
		{"a new failing control is announced again", [][]checks.Verdict{verdicts("screen_lock"), verdicts("screen_lock", "disk_encryption")}, 2},
		{"failing again after being fixed is announced", [][]checks.Verdict{verdicts("screen_lock"), verdicts(), verdicts("screen_lock")}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr := &fakeRunner{}
			n := New(Config{GOOS: "linux", Run: fr, ConsoleUser: func(context.Context) (consoleuser.User, error) { return alice, nil }})
			for _, vs := range tt.cycles {
				n.Observe(context.Background(), vs)
			}
			if len(fr.calls) != tt.want {
				t.Errorf("%d notifications, want %d: %v", len(fr.calls), tt.want, fr.calls)
			}
		})
	}
	t.Run("a notification that could not be shown is retried next cycle", func(t *testing.T) {
		fr := &fakeRunner{err: errors.New("no bus")}
		n := New(Config{GOOS: "linux", Run: fr, ConsoleUser: func(context.Context) (consoleuser.User, error) { return alice, nil }})
		n.Observe(context.Background(), verdicts("screen_lock"))
		fr.err = nil
		n.Observe(context.Background(), verdicts("screen_lock"))
		n.Observe(context.Background(), verdicts("screen_lock"))
		if len(fr.calls) != 2 {
			t.Errorf("%d runs, want 2", len(fr.calls))
		}
	})
	t.Run("nobody at the console means nothing runs", func(t *testing.T) {
		fr := &fakeRunner{}
		n := New(Config{GOOS: "linux", Run: fr, ConsoleUser: func(context.Context) (consoleuser.User, error) {
			return consoleuser.User{}, consoleuser.ErrNoConsoleUser
		}})
		n.Observe(context.Background(), verdicts("screen_lock"))
		if len(fr.calls) != 0 {
			t.Errorf("ran %v", fr.calls)
		}
	})
}

func TestCommand(t *testing.T) {
	tests := []struct {
		name, goos string
		user       consoleuser.User
		body       string
		want       []string
		wantErr    bool
	}{
		{"linux runs notify-send as the user on their session bus", "linux", alice, "Fix <b>& more", []string{
			"runuser", "-u", "alice", "--", "/usr/bin/env", "DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus",
			"/usr/bin/notify-send", "--app-name=Postern", "--urgency=critical", "--", Title, "Fix &lt;b&gt;&amp; more"}, false},
		{"linux refuses a text console", "linux", consoleuser.User{Name: "bob", ID: "1001", SessionType: "tty"}, "x", nil, true},
		{"linux refuses root", "linux", consoleuser.User{Name: "root", ID: "0", SessionType: "x11"}, "x", nil, true},
		{"macOS escapes quotes and backslashes for AppleScript", "darwin", consoleuser.User{Name: "carol", ID: "501", SessionType: "console"},
			`Turn on "FileVault" \ now`, []string{"launchctl", "asuser", "501", "/usr/bin/osascript", "-e",
				`display notification "Turn on \"FileVault\" \\ now" with title "` + Title + `"`}, false},
		{"windows shows a message box on the console session", "windows", consoleuser.User{Name: `CORP\dan`, ID: "S-1-5-21-1"}, "x",
			[]string{"msg", "console", "/TIME:300", Title + ": x"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, args, err := Command(tt.goos, tt.user, Title, tt.body)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if tt.wantErr {
				return
			}
			if diff := cmp.Diff(tt.want, append([]string{string(p)}, args...)); diff != "" {
				t.Errorf("command (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBody(t *testing.T) {
	tests := []struct {
		name string
		vs   []checks.Verdict
		want string
	}{
		{"compliant has no text", verdicts(), ""},
		{"one problem names its fix", verdicts("screen_lock"), "Fix: Title screen_lock. Fix screen_lock."},
		{"several problems give the first fix and a count", verdicts("a", "b"), `2 problem(s). Fix first: Title a. Fix a. Run "postern-agent status" for the rest.`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Body(tt.vs); got != tt.want {
				t.Errorf("Body = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("a long fix is cut", func(t *testing.T) {
		vs := []checks.Verdict{{ID: "x", Status: checks.StatusFail, Title: "T", Remediation: strings.Repeat("y", 1000)}}
		if n := len([]rune(Body(vs))); n != maxBody {
			t.Errorf("length %d", n)
		}
	})
}
