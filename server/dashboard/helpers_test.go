package dashboard

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postern-dev/postern/checks"
	"github.com/postern-dev/postern/server/audit"
	"github.com/postern-dev/postern/server/dashboard/dashtest"
	"github.com/postern-dev/postern/server/decision"
	"github.com/postern-dev/postern/server/exceptions"
	"github.com/postern-dev/postern/server/policy"
	"github.com/postern-dev/postern/server/store"
	"github.com/postern-dev/postern/server/users"
)

var t0 = dashtest.Now

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fakeRechecker struct {
	mu  sync.Mutex
	ids []string
}

func (f *fakeRechecker) Connected(string) bool { return false }

func (f *fakeRechecker) Recheck(id string) error {
	f.mu.Lock()
	f.ids = append(f.ids, id)
	f.mu.Unlock()
	return nil
}

// policies is the reloadable policy set the engine and the device page
// read, as policy.Manager is in the server.
type policies struct{ p atomic.Pointer[policy.Set] }

func (p *policies) Current() *policy.Set { return p.p.Load() }

// setVersion numbers the sets setOf makes: a new version drops the
// engine's cached verdicts, as a reload does.
var setVersion atomic.Uint64

// setOf is a policy set with pol for every organization and no required
// attestation, except the given profiles.
func setOf(pol *checks.Policy, profiles map[string]*checks.Policy) *policy.Set {
	s := &policy.Set{Version: setVersion.Add(1), Default: &policy.Profile{Policy: pol}, Profiles: map[string]*policy.Profile{}}
	for org, p := range profiles {
		s.Profiles[org] = &policy.Profile{Name: org, Policy: p}
	}
	return s
}

// refreshingExceptions reloads the engine's exception index after each
// change, as the server's lifecycle does.
type refreshingExceptions struct {
	Exceptions
	ix *exceptions.Index
}

func (r refreshingExceptions) Grant(ctx context.Context, e store.Exception) (store.Exception, error) {
	out, err := r.Exceptions.Grant(ctx, e)
	if err == nil {
		err = r.ix.Refresh(ctx)
	}
	return out, err
}

func (r refreshingExceptions) End(ctx context.Context, id, by string) error {
	err := r.Exceptions.End(ctx, id, by)
	if err == nil {
		err = r.ix.Refresh(ctx)
	}
	return err
}

type env struct {
	t     testing.TB
	pols  *policies
	eng   *decision.Engine
	dir   string
	st    store.Store
	users *users.Service
	clock *testClock
	dash  *Dashboard
	srv   *httptest.Server
	rech  *fakeRechecker
}

func newEnv(t testing.TB, devs []dashtest.Device) *env { t.Helper(); return newEnvWith(t, devs, nil) }

// newEnvWith is newEnv with the dashboard's Config changed by opt, which
// also learns the test server's URL (a provider's redirect URL needs it).
func newEnvWith(t testing.TB, devs []dashtest.Device, opt func(cfg *Config, url string)) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	raw, err := store.OpenSQLite(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	// As serve wires it: every write through the store forgets the
	// device's cached posture, and the engine lists the fleet from the
	// posture cache.
	postures := decision.NewPostureCache(decision.DefaultPostureTTL)
	st := decision.ForgetOnWrite(raw, postures)
	c := &testClock{t: t0}
	pol := checks.DefaultPolicy()
	if len(devs) > 0 {
		if err := dashtest.Seed(ctx, st, devs, pol, t0); err != nil {
			t.Fatal(err)
		}
	}
	acc := st
	aud := audit.New(st, c.Now, nil)
	us, err := users.New(users.Config{Store: acc, Audit: aud, Params: users.Params{Memory: 64, Time: 1, Threads: 1}, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	rech := &fakeRechecker{}
	pols := &policies{}
	pols.p.Store(setOf(pol, nil))
	ix := exceptions.NewIndex(st, c.Now, nil)
	if err := ix.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	// The real engine: the dashboard shows its decisions.
	eng := decision.NewEngine(decision.EngineConfig{Store: st, Policies: pols, Index: ix, Postures: postures, Now: c.Now})
	exc := refreshingExceptions{ExceptionService(exceptions.NewService(st, aud, c.Now), st), ix}
	srv := httptest.NewUnstartedServer(nil)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	cfg := Config{Logger: testLogger(t), Store: st, Users: us, Decisions: eng, Audit: aud,
		Policy:    func() *checks.Policy { return pols.Current().Default.Policy },
		PolicyFor: func(org string) *checks.Policy { return pols.Current().For(org).Policy },
		Rechecker: rech, Now: c.Now, Exceptions: exc, EnrollAddr: "posture.example.org:4433"}
	if opt != nil {
		opt(&cfg, srv.URL)
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	d.Mount(mux)
	srv.Config.Handler = mux
	return &env{pols: pols, eng: eng, dir: dir, t: t, st: st, users: us, clock: c, dash: d, srv: srv, rech: rech}
}

// client is one browser: a cookie jar over the test server's TLS.
type client struct {
	e    *env
	http *http.Client
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	// A copy: srv.Client() is one shared client, and each browser needs
	// its own jar.
	hc := *e.srv.Client()
	hc.Jar = jar
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &client{e: e, http: &hc}
}

type resp struct {
	status   int
	location string
	body     string
	header   http.Header
}

func (c *client) do(method, path string, form url.Values) resp {
	c.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	target := c.e.srv.URL + path
	if strings.HasPrefix(path, "https://") {
		target = path // another server (an identity provider)
	}
	req, _ := http.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	r, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{status: r.StatusCode, location: r.Header.Get("Location"), body: string(b), header: r.Header}
}

func (c *client) get(path string) resp { return c.do("GET", path, nil) }

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the token from a page's form.
func (c *client) csrf(path string) string {
	c.e.t.Helper()
	m := csrfRE.FindStringSubmatch(c.get(path).body)
	if m == nil {
		c.e.t.Fatalf("no csrf token on %s", path)
	}
	return m[1]
}

func (c *client) post(path string, form url.Values) resp {
	return c.do("POST", path, form)
}

const firstPassword, ownPassword = "Temporary-Pass1", "Harbor-Lights-42"

// addUser creates an account that has already chosen its own password.
func (e *env) addUser(name string, role users.Role) {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.users.Add(ctx, users.NewUser{Username: name, FirstName: "Test", LastName: "Person", Role: role, Password: firstPassword}); err != nil {
		e.t.Fatal(err)
	}
	if err := e.users.ChangePassword(ctx, name, firstPassword, ownPassword); err != nil {
		e.t.Fatal(err)
	}
}

// signIn returns a client signed in as name.
func (e *env) signIn(name string) *client {
	e.t.Helper()
	c := e.client()
	r := c.post("/ui/login", url.Values{"username": {name}, "password": {ownPassword}})
	if r.status != http.StatusSeeOther || r.location != "/ui/" {
		e.t.Fatalf("sign in %s: %d %s", name, r.status, r.location)
	}
	return c
}

type tlogWriter struct{ t testing.TB }

func (w tlogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tlogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
