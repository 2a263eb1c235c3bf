package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"

	"github.com/postern-dev/postern/agent/allowcmd"
	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/checks/consoleuser"
)

// Title is the notification's title.
const Title = "Postern: this computer is not compliant"

// maxBody bounds the notification text.
const maxBody = 300

// Config configures a Notifier.
type Config struct {
	// GOOS selects how to notify.
	GOOS string
	// Run starts programs; allowcmd.Exec in production.
	Run allowcmd.Runner
	// ConsoleUser finds the user to notify (consoleuser.Find on the live
	// host in production).
	ConsoleUser func(ctx context.Context) (consoleuser.User, error)
	// Logger receives what happened; nil discards.
	Logger *slog.Logger
}

// Notifier remembers the last set of failing controls it announced.
type Notifier struct {
	cfg  Config
	log  *slog.Logger
	mu   sync.Mutex
	last string
}

// New returns a Notifier.
func New(cfg Config) *Notifier {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Notifier{cfg: cfg, log: log}
}

// Key is the set of controls that are not passing, sorted and joined;
// empty when compliant.
func Key(vs []checks.Verdict) string {
	var ids []string
	for _, v := range vs {
		if v.Status != checks.StatusPass && v.Status != checks.StatusNotApplicable {
			ids = append(ids, string(v.ID))
		}
	}
	sort.Strings(ids)
	return strings.Join(ids, ",")
}

// Body is the text: how many problems, and the first fix.
func Body(vs []checks.Verdict) string {
	var failing []checks.Verdict
	for _, v := range vs {
		if v.Status != checks.StatusPass && v.Status != checks.StatusNotApplicable {
			failing = append(failing, v)
		}
	}
	if len(failing) == 0 {
		return ""
	}
	first := failing[0]
	fix := first.Remediation
	if fix == "" {
		fix = first.Summary
	}
	s := fmt.Sprintf("%d problem(s). Fix first: %s. %s Run \"postern-agent status\" for the rest.", len(failing), first.Title, fix)
	if len(failing) == 1 {
		s = fmt.Sprintf("Fix: %s. %s", first.Title, fix)
	}
	if r := []rune(s); len(r) > maxBody {
		s = string(r[:maxBody-1]) + "…"
	}
	return s
}

// Observe is called with each cycle's verdicts. It notifies when the set
// of failing controls differs from the last one announced; a compliant
// cycle resets it, so the next failure is announced again. A failed
// notification is retried at the next cycle.
func (n *Notifier) Observe(ctx context.Context, vs []checks.Verdict) {
	key := Key(vs)
	n.mu.Lock()
	defer n.mu.Unlock()
	if key == n.last {
		return
	}
	if key == "" {
		n.last = ""
		return
	}
	if err := n.notify(ctx, Body(vs)); err != nil {
		n.log.Warn("notification not shown", "err", err, "controls", key)
		return
	}
	n.last = key
	n.log.Info("notification shown", "controls", key)
}

// ErrNoUser: nobody is signed in at the console to notify.
var ErrNoUser = errors.New("no console user to notify")

func (n *Notifier) notify(ctx context.Context, body string) error {
	u, err := n.cfg.ConsoleUser(ctx)
	if err != nil {
		if errors.Is(err, consoleuser.ErrNoConsoleUser) {
			return ErrNoUser
		}
		return fmt.Errorf("find console user: %w", err)
	}
	prog, args, err := Command(n.cfg.GOOS, u, Title, body)
	if err != nil {
		return err
	}
	_, err = n.cfg.Run.Run(ctx, prog, args...)
	return err
}

// Command returns the program and arguments that show title and body to
// u on goos. Arguments go to the program directly, never through a shell.
func Command(goos string, u consoleuser.User, title, body string) (allowcmd.Program, []string, error) {
	switch goos {
	case "linux":
		if !u.Graphical() {
			return "", nil, fmt.Errorf("console session of %s is not graphical", u.Name)
		}
		if !numeric(u.ID) || u.ID == "0" {
			return "", nil, fmt.Errorf("console user id %q: want a non-root uid", u.ID)
		}
		env, _ := allowcmd.Path(goos, allowcmd.Env)
		ns, _ := allowcmd.Path(goos, allowcmd.NotifySend)
		return allowcmd.RunUser, []string{"-u", u.Name, "--", env,
			"DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/" + u.ID + "/bus",
			ns, "--app-name=Postern", "--urgency=critical", "--", title, markupEscape(body)}, nil
	case "darwin":
		if !numeric(u.ID) || u.ID == "0" {
			return "", nil, fmt.Errorf("console user id %q: want a non-root uid", u.ID)
		}
		osa, _ := allowcmd.Path(goos, allowcmd.Osascript)
		script := "display notification " + appleString(body) + " with title " + appleString(title)
		return allowcmd.Launchctl, []string{"asuser", u.ID, osa, "-e", script}, nil
	case "windows":
		return allowcmd.Msg, []string{"console", "/TIME:300", title + ": " + body}, nil
	}
	return "", nil, fmt.Errorf("notifications on %s: %w", goos, allowcmd.ErrNotAllowed)
}

func numeric(s string) bool {
	if s == "" || len(s) > 10 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// appleString quotes s as an AppleScript string literal.
func appleString(s string) string {
	s = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", " ", "\r", " ").Replace(s)
	return `"` + s + `"`
}

// markupEscape escapes the body markup notify-send's servers interpret.
func markupEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
