package dashboard

import (
	"net/http"
	"net/url"
	"testing"
)

// Anyone can start a sign-in and send its callback a made-up code: the
// provider refuses each, and none leaves a state behind, so strangers
// cannot grow the used-state map (and the sweep each callback makes of
// it) without bound. A state is kept once it brought a verified token.
func TestSSOCallbacksWithMadeUpCodesKeepNothing(t *testing.T) {
	e := newSSOEnv(t, LocalSignInAllowed)
	for range 30 {
		c := e.client()
		r := c.get(OIDCLoginPath)
		if r.status != http.StatusSeeOther {
			t.Fatalf("start: %d", r.status)
		}
		state := mustURL(r.location).Query().Get("state")
		back := e.srv.URL + OIDCCallbackPath + "?" + url.Values{"state": {state}, "code": {"made-up"}}.Encode()
		if r := c.getURL(back); r.status != http.StatusUnauthorized {
			t.Fatalf("callback with a made-up code: %d, want 401", r.status)
		}
	}
	e.dash.sso.mu.Lock()
	kept := len(e.dash.sso.used)
	e.dash.sso.mu.Unlock()
	if kept != 0 {
		t.Errorf("%d states kept for refused callbacks, want none", kept)
	}
	if r := e.signInSSO(e.client(), "ana.lima"); r.status != http.StatusOK {
		t.Fatalf("a real sign-in afterwards: %d", r.status)
	}
	e.dash.sso.mu.Lock()
	kept = len(e.dash.sso.used)
	e.dash.sso.mu.Unlock()
	if kept != 1 {
		t.Errorf("%d states kept after one sign-in, want 1", kept)
	}
}
