package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
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
	// Dir is where the Windows toast's script and text are written;
	// DefaultDir(%ProgramData%) when empty. Unused on other OSes.
	Dir string
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
	method, err := n.notify(ctx, Body(vs))
	if err != nil {
		n.log.Warn("notification not shown", "err", err, "controls", key)
		return
	}
	n.last = key
	n.log.Info("notification shown", "controls", key, "method", method)
}

// ErrNoUser: nobody is signed in at the console to notify.
var ErrNoUser = errors.New("no console user to notify")

// Ways a notification is shown, as logged under "method".
const (
	methodToast   = "toast"
	methodMsg     = "msg"
	methodCommand = "command"
)

// notify shows body to the console user and says how.
func (n *Notifier) notify(ctx context.Context, body string) (string, error) {
	u, err := n.cfg.ConsoleUser(ctx)
	if err != nil {
		if errors.Is(err, consoleuser.ErrNoConsoleUser) {
			return "", ErrNoUser
		}
		return "", fmt.Errorf("find console user: %w", err)
	}
	if n.cfg.GOOS == "windows" {
		return n.notifyWindows(ctx, u, body)
	}
	return methodCommand, n.runCommand(ctx, u, body)
}

// notifyWindows shows a toast through the Task Scheduler and falls back
// to msg.exe when that cannot be set up.
func (n *Notifier) notifyWindows(ctx context.Context, u consoleuser.User, body string) (string, error) {
	terr := n.toast(ctx, u, body)
	if terr == nil {
		return methodToast, nil
	}
	n.log.Warn("toast not shown, falling back to msg.exe", "err", terr)
	if err := n.runCommand(ctx, u, body); err != nil {
		return "", fmt.Errorf("toast: %w; msg: %w", terr, err)
	}
	return methodMsg, nil
}

// toast writes the script and its text, then has schtasks run it as u.
func (n *Notifier) toast(ctx context.Context, u consoleuser.User, body string) error {
	dir := n.cfg.Dir
	if dir == "" {
		dir = DefaultDir(os.Getenv("ProgramData"))
	}
	script, err := writeToast(dir, Title, body)
	if err != nil {
		return err
	}
	create, run, err := ToastCommands(u, script)
	if err != nil {
		return err
	}
	if _, err := n.cfg.Run.Run(ctx, allowcmd.Schtasks, create...); err != nil {
		return fmt.Errorf("create task: %w", err)
	}
	if _, err := n.cfg.Run.Run(ctx, allowcmd.Schtasks, run...); err != nil {
		return fmt.Errorf("run task: %w", err)
	}
	return nil
}

// runCommand runs Command's program for goos.
func (n *Notifier) runCommand(ctx context.Context, u consoleuser.User, body string) error {
	prog, args, err := Command(n.cfg.GOOS, u, Title, body)
	if err != nil {
		return err
	}
	_, err = n.cfg.Run.Run(ctx, prog, args...)
	return err
}

// Command returns the program and arguments that show title and body to
// u on goos; on Windows that is msg.exe, the fallback when the toast
// (ToastCommands) cannot be shown. Arguments go to the program directly, never through a shell.
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
