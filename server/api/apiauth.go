package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/postern-dev/postern/server/store"
)

// useRecordEvery is how often a key's last use is written to the store
// at most: a key opening thousands of decisions a second costs one write
// a minute, done off the request's path.
const useRecordEvery = time.Minute

// useRecorder writes keys' last uses in the background.
type useRecorder struct {
	// wg tracks writes in flight, for tests.
	wg sync.WaitGroup
}

// authResult is what a request's credentials earned.
type authResult int

const (
	authOK authResult = iota
	// authUnauthorized: no key, a malformed, unknown, wrong, expired or
	// revoked key. Every case gets the same answer.
	authUnauthorized
	// authForbidden: a valid key without the endpoint's scope.
	authForbidden
	// authUnavailable: the key could not be looked up.
	authUnavailable
)

// requireScope admits requests carrying a usable API key with scope as
// "Authorization: Bearer pk_...". It adds nothing to the request, so the
// decision endpoints pay no allocation for it.
func (a *api) requireScope(scope store.Scope, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, res := a.authorize(r, scope); res != authOK {
			a.refuse(w, res, scope)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// refuse answers a request that authorize did not admit.
func (a *api) refuse(w http.ResponseWriter, res authResult, scope store.Scope) {
	switch res {
	case authUnavailable:
		// The key could not be looked up: a store failure, not a bad
		// key, so the caller retries instead of doubting its key.
		writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: "the API key could not be checked; retry"})
	case authForbidden:
		writeJSON(w, http.StatusForbidden, errorBody{Error: "the API key lacks the scope " + string(scope)})
	default:
		w.Header().Set("WWW-Authenticate", `Bearer realm="postern"`)
		writeJSON(w, http.StatusUnauthorized, errorBody{Error: "unauthorized"})
	}
}

// authorize finds the request's API key and judges it for scope. A
// usable key's use is recorded, at most once per useRecordEvery.
func (a *api) authorize(r *http.Request, scope store.Scope) (store.APIKey, authResult) {
	auth := r.Header.Get("Authorization")
	scheme, key, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return store.APIKey{}, authUnauthorized
	}
	id, hash, ok := store.ParseAPIKey(strings.TrimSpace(key))
	if !ok {
		return store.APIKey{}, authUnauthorized
	}
	now := keyClock()
	e, ok := a.keys.get(id, now)
	if !ok {
		k, err := a.cfg.Store.APIKey(r.Context(), id)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return store.APIKey{}, authUnauthorized
			}
			a.failed(r, "read api key failed", err)
			return store.APIKey{}, authUnavailable
		}
		ownerOff, err := a.ownerOff(r.Context(), k)
		if err != nil {
			a.failed(r, "read api key owner failed", err)
			return store.APIKey{}, authUnavailable
		}
		e = a.keys.put(k, now, ownerOff)
	}
	k := e.key
	if !store.HashesEqual(k.Hash, hash) || !k.Usable(a.now()) || e.ownerOff {
		return store.APIKey{}, authUnauthorized
	}
	a.recordUse(e, now)
	if !k.Allows(scope) {
		return store.APIKey{}, authForbidden
	}
	return k, authOK
}

// ownerOff reports whether a key made by a dashboard account
// ("user:NAME") has lost its owner: the account was disabled (by an
// admin, or after 90 days without sign-in) or deleted. Such a key stops
// working with its owner, as a session does; keys made on the command
// line belong to an OS account and are unaffected.
func (a *api) ownerOff(ctx context.Context, k store.APIKey) (bool, error) {
	name, ok := strings.CutPrefix(k.Owner, "user:")
	if !ok {
		return false, nil
	}
	u, err := a.cfg.Store.User(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return !u.DisabledAt.IsZero(), nil
}

// recordUse writes the key's use unless this process wrote it less than
// useRecordEvery ago; the write runs in the background, so no request
// waits for it.
func (a *api) recordUse(e *cachedKey, now time.Time) {
	last := e.recorded.Load()
	n := now.UnixNano()
	if last != 0 && n-last < int64(useRecordEvery) && n >= last {
		return
	}
	if !e.recorded.CompareAndSwap(last, n) {
		return // another request is recording it
	}
	id, at := e.key.ID, a.now()
	a.uses.wg.Add(1)
	go func() {
		defer a.uses.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.cfg.Store.TouchAPIKey(ctx, id, at); err != nil {
			a.log.Warn("record api key use failed", "key_id", id, "err", err)
		}
	}()
}
