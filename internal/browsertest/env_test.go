package browsertest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/server/dashboard"
	"github.com/postern-dev/postern/server/dashboard/dashtest"
	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/policy"
	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

var t0 = dashtest.Now

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	t     *testing.T
	st    store.Store
	users *users.Service
	clock *clock
	url   string
}

const ownPassword = "Harbor-Lights-42"

// fixedSet is a policy set that never reloads.
type fixedSet struct{ s *policy.Set }

func (f fixedSet) Current() *policy.Set { return f.s }

func newEnv(t *testing.T, devs []dashtest.Device) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{t: t0}
	pol := checks.DefaultPolicy()
	if err := dashtest.Seed(ctx, st, devs, pol, t0); err != nil {
		t.Fatal(err)
	}
	acc := st
	// An MFA key as serve keeps in the data directory: TOTP works.
	mfaKey, err := users.LoadOrCreateMFAKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	us, err := users.New(users.Config{Store: acc, Params: users.Params{Memory: 1024, Time: 1, Threads: 1}, Now: c.Now, MFAKey: mfaKey})
	if err != nil {
		t.Fatal(err)
	}
	// The real decision engine, with the seed's policy and no required
	// attestation: the pages show its decisions.
	set := fixedSet{&policy.Set{Version: 1, Default: &policy.Profile{Policy: pol}}}
	eng := decision.NewEngine(decision.EngineConfig{Store: st, Policies: set, Now: c.Now})
	d, err := dashboard.New(dashboard.Config{Store: st, Users: us, Decisions: eng, Policy: func() *checks.Policy { return pol }, Now: c.Now, EnrollAddr: "posture.example.org:4433"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	d.Mount(mux)
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return &env{t: t, st: st, users: us, clock: c, url: srv.URL}
}

// addUser creates an account; settled accounts have already changed
// their first password to ownPassword.
func (e *env) addUser(name string, role users.Role, settled bool) {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.users.Add(ctx, users.NewUser{Username: name, FirstName: "Jordan", LastName: "Avery", Role: role, Password: "Temporary-Pass1"}); err != nil {
		e.t.Fatal(err)
	}
	if settled {
		if err := e.users.ChangePassword(ctx, name, "Temporary-Pass1", ownPassword); err != nil {
			e.t.Fatal(err)
		}
	}
}

func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium not found: apt-get install -y chromium (the browser tests need it in CI)")
	}
	t.Skip("chromium not found; install it (apt-get install -y chromium) to run the browser tests")
	return ""
}

// browser starts a fresh headless Chromium and returns its context.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 900),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel3)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

func (e *env) signIn(ctx context.Context, user, password string) error {
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.url+"/ui/login"),
		chromedp.WaitVisible(`input[name=username]`),
		chromedp.SendKeys(`input[name=username]`, user),
		chromedp.SendKeys(`input[name=password]`, password),
	)
	if err != nil {
		return err
	}
	return submit(ctx, `button[type=submit]`)
}

// submit clicks sel and waits until the next page has loaded: a marker
// set on the current page disappears with it.
func submit(ctx context.Context, sel string) error {
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__postern_old = true`)); err != nil {
		return err
	}
	if err := chromedp.Do(ctx, chromedp.Click(sel)); err != nil {
		return err
	}
	for {
		done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!window.__postern_old && document.readyState === 'complete'`))
		if err == nil && done {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func text(ctx context.Context, t *testing.T, sel string) string {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(sel)); err != nil {
		t.Fatalf("wait for %s: %v", sel, err)
	}
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

func location(ctx context.Context, t *testing.T) string {
	t.Helper()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// evaluate runs JavaScript in the page and returns its value, awaiting a
// promise.
func evaluate[T any](ctx context.Context, t *testing.T, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %q: %v", expr, err)
	}
	return v
}

// session opens a fresh browser signed in as user.
func (e *env) session(t *testing.T, user, password string) context.Context {
	t.Helper()
	ctx := browser(t)
	if err := e.signIn(ctx, user, password); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// visit opens url and waits until sel is visible.
func visit(ctx context.Context, t *testing.T, url, sel string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(sel)); err != nil {
		t.Fatal(err)
	}
}
